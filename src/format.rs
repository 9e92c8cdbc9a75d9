//! Numbers, units and dates written the way each language's readers expect.

use crate::lang::Lang;
use crate::project::{Date, Metric, Unit};

/// Formats a metric value with its unit: `4,500,000 people` / `450万人`.
pub fn value_with_unit(value: f64, unit: Unit, lang: Lang) -> String {
    let number = match lang {
        Lang::En => group_thousands(value),
        Lang::Ja => japanese_number(value),
    };
    match (lang, unit) {
        (_, Unit::Percent) => format!("{number}%"),
        (Lang::En, Unit::Sgd) => format!("S${number}"),
        (Lang::En, Unit::Usd) => format!("US${number}"),
        (Lang::En, Unit::Jpy) => format!("¥{number}"),
        (Lang::En, Unit::Count) => number,
        (Lang::En, _) => format!("{number} {}", unit_word(unit, value)),
        (Lang::Ja, _) => format!("{number}{}", unit.japanese()),
    }
}

fn unit_word(unit: Unit, value: f64) -> &'static str {
    let one = value == 1.0;
    match unit {
        Unit::People => {
            if one {
                "person"
            } else {
                "people"
            }
        }
        Unit::Services => pick(one, "service", "services"),
        Unit::Transactions => pick(one, "transaction", "transactions"),
        Unit::Organisations => pick(one, "organisation", "organisations"),
        Unit::Courses => pick(one, "course", "courses"),
        Unit::Hours => pick(one, "hour", "hours"),
        Unit::Count | Unit::Percent | Unit::Sgd | Unit::Jpy | Unit::Usd => "",
    }
}

fn pick(one: bool, singular: &'static str, plural: &'static str) -> &'static str {
    if one { singular } else { plural }
}

/// `1234567.5` → `1,234,567.5`; at most two decimals, trailing zeros dropped.
pub fn group_thousands(value: f64) -> String {
    let (sign, int, frac) = split(value);
    let mut out = String::from(sign);
    out.push_str(&group(&int.to_string()));
    out.push_str(&frac);
    out
}

/// Japanese convention for large numbers: myriads with 万 and 億, the rest
/// grouped by thousands: `1234567` → `123万4,567`, `125000000` → `1億2,500万`.
/// Numbers below 10,000 and fractions are grouped like English.
pub fn japanese_number(value: f64) -> String {
    let (sign, int, frac) = split(value);
    if int < 10_000 || !frac.is_empty() {
        return group_thousands(value);
    }
    let mut parts = String::from(sign);
    let units = [
        (1_0000_0000_0000u128, "兆"),
        (1_0000_0000, "億"),
        (1_0000, "万"),
    ];
    let mut rest = int;
    for (size, name) in units {
        let n = rest / size;
        if n > 0 {
            parts.push_str(&group(&n.to_string()));
            parts.push_str(name);
        }
        rest %= size;
    }
    if rest > 0 {
        parts.push_str(&group(&rest.to_string()));
    }
    parts
}

fn split(value: f64) -> (&'static str, u128, String) {
    let sign = if value < 0.0 { "-" } else { "" };
    let rounded = (value.abs() * 100.0).round() / 100.0;
    let int = rounded.trunc() as u128;
    let cents = ((rounded - rounded.trunc()) * 100.0).round() as u32;
    let frac = match cents {
        0 => String::new(),
        c if c % 10 == 0 => format!(".{}", c / 10),
        c => format!(".{c:02}"),
    };
    (sign, int, frac)
}

fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `27 November 2026` / `2026年11月27日`.
pub fn date(date: Date, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{} {} {}",
            date.day,
            MONTHS[usize::from(date.month - 1)],
            date.year
        ),
        Lang::Ja => format!("{}年{}月{}日", date.year, date.month, date.day),
    }
}

/// A metric as the reader sees it: its value with its unit, and the words
/// that say it is illustrative when it is.
pub fn metric(m: &Metric, lang: Lang) -> String {
    let mut v = value_with_unit(m.value, m.unit, lang);
    if m.illustrative {
        if lang == Lang::En {
            v.push(' ');
        }
        v.push_str(illustrative_marker(lang));
    }
    v
}

/// The words that say a figure is illustrative, set next to it everywhere.
pub fn illustrative_marker(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "(illustrative)",
        Lang::Ja => "（例示値）",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_groups_thousands() {
        assert_eq!(group_thousands(1_234_567.0), "1,234,567");
        assert_eq!(group_thousands(999.0), "999");
        assert_eq!(group_thousands(1000.0), "1,000");
        assert_eq!(group_thousands(78.456), "78.46");
        assert_eq!(group_thousands(12.5), "12.5");
        assert_eq!(group_thousands(-4200.0), "-4,200");
    }

    #[test]
    fn japanese_uses_myriads() {
        assert_eq!(japanese_number(1_234_567.0), "123万4,567");
        assert_eq!(japanese_number(4_500_000.0), "450万");
        assert_eq!(japanese_number(125_000_000.0), "1億2,500万");
        assert_eq!(japanese_number(100_000_001.0), "1億1");
        assert_eq!(japanese_number(9_999.0), "9,999");
        assert_eq!(japanese_number(97.5), "97.5");
    }

    #[test]
    fn units_follow_the_language() {
        assert_eq!(
            value_with_unit(4_500_000.0, Unit::People, Lang::En),
            "4,500,000 people"
        );
        assert_eq!(
            value_with_unit(4_500_000.0, Unit::People, Lang::Ja),
            "450万人"
        );
        assert_eq!(value_with_unit(97.0, Unit::Percent, Lang::En), "97%");
        assert_eq!(value_with_unit(97.0, Unit::Percent, Lang::Ja), "97%");
        assert_eq!(value_with_unit(1500.0, Unit::Sgd, Lang::En), "S$1,500");
        assert_eq!(value_with_unit(30_000.0, Unit::Jpy, Lang::Ja), "3万円");
        assert_eq!(value_with_unit(1.0, Unit::Courses, Lang::En), "1 course");
    }

    #[test]
    fn dates_follow_the_language() {
        let d = Date {
            year: 2026,
            month: 11,
            day: 27,
        };
        assert_eq!(date(d, Lang::En), "27 November 2026");
        assert_eq!(date(d, Lang::Ja), "2026年11月27日");
    }
}
