//! Numbers, units and dates written the way each language's readers expect.
//!
//! A metric's value is printed with exactly the digits its data file gives
//! (see [`Decimal`]): never through a binary float, never rounded unless the
//! metric asks for it with `decimals`.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::load::project::{Date, Metric, Unit};
use crate::model::lang::Lang;

/// A decimal number as written: sign, integer digits and fraction digits.
/// `0.005` stays `0.005` and `12.50` keeps its zero, which an `f64` would not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    /// Integer digits without leading zeros (`"0"` for zero).
    int: String,
    /// Fraction digits as written, trailing zeros included.
    frac: String,
}

impl Decimal {
    /// Reads a plain decimal literal: `-1234.50`, `4_500_000`, `+7`.
    /// `None` for anything else (exponents, hexadecimal, `inf`).
    pub fn parse(literal: &str) -> Option<Decimal> {
        let s: String = literal.trim().chars().filter(|&c| c != '_').collect();
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, s.strip_prefix('+').unwrap_or(&s).to_string()),
        };
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !digits(int) || !digits(frac) || (s.contains('.') && frac.is_empty()) {
            return None;
        }
        let int = int.trim_start_matches('0');
        Some(Decimal::new(
            negative,
            if int.is_empty() { "0" } else { int },
            frac,
        ))
    }

    /// A TOML number literal, exactly as written: a decimal (`-1234.50`),
    /// one with an exponent (`9.007199254740993e15`, whose digits an `f64`
    /// would lose), or a hexadecimal, octal or binary integer
    /// (`0x7fffffffffffffff`). `None` for `inf`, `nan` and anything else.
    pub fn parse_toml(literal: &str) -> Option<Decimal> {
        let s: String = literal.trim().chars().filter(|&c| c != '_').collect();
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
            if let Some(digits) = s.strip_prefix(prefix) {
                let n = u64::from_str_radix(digits, radix).ok()?;
                return Some(Decimal::new(false, &n.to_string(), ""));
            }
        }
        let Some((mantissa, exponent)) = s.split_once(['e', 'E']) else {
            return Decimal::parse(&s);
        };
        let m = Decimal::parse(mantissa)?;
        let exponent: i64 = exponent.parse().ok()?;
        // Beyond any figure a report prints; refused rather than expanded.
        if exponent.abs() > 64 {
            return None;
        }
        let digits = format!("{}{}", m.int, m.frac);
        // Where the decimal point falls in `digits`, after the shift.
        let point = m.int.len() as i64 + exponent;
        let (int, frac) = if point <= 0 {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            let (i, f) = digits.split_at(point as usize);
            (i.to_string(), f.to_string())
        };
        // Written with an exponent, trailing fraction zeros are no digits
        // the author chose to show (`1.50e1` is 15).
        let frac = frac.trim_end_matches('0');
        let int = int.trim_start_matches('0');
        Some(Decimal::new(
            m.negative,
            if int.is_empty() { "0" } else { int },
            frac,
        ))
    }

    /// The figure as a number for templates and machine-readable markup
    /// (`<data value>`): an integer exactly, anything else as the nearest
    /// float.
    pub fn number(&self) -> Number {
        if self.frac.bytes().all(|b| b == b'0')
            && let Ok(n) = self.int.parse::<i128>()
        {
            return Number::Int(if self.negative { -n } else { n });
        }
        Number::Float(self.to_string().parse().unwrap_or(f64::NAN))
    }

    /// The shortest decimal that reads back as `value` (for values written
    /// with an exponent, `1.5e6`).
    pub fn from_f64(value: f64) -> Decimal {
        // `Display` for f64 never uses an exponent and round-trips.
        Decimal::parse(&format!("{value}")).unwrap_or_else(|| Decimal::new(false, "0", ""))
    }

    fn new(negative: bool, int: &str, frac: &str) -> Decimal {
        let zero = int.bytes().chain(frac.bytes()).all(|b| b == b'0');
        Decimal {
            // `-0` and `-0.00` are zero, written without a sign.
            negative: negative && !zero,
            int: int.to_string(),
            frac: frac.to_string(),
        }
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Exactly one, as written (`1`, not `1.0`): the English singular.
    fn is_one(&self) -> bool {
        !self.negative && self.int == "1" && self.frac.is_empty()
    }

    /// Rounded to `decimals` fraction digits, half away from zero (四捨五入),
    /// computed on the digits themselves; zeros are added to reach `decimals`.
    pub fn round(&self, decimals: u8) -> Decimal {
        let n = usize::from(decimals);
        if self.frac.len() <= n {
            let frac = format!("{:0<n$}", self.frac);
            return Decimal::new(self.negative, &self.int, &frac);
        }
        let round_up = self.frac.as_bytes()[n] >= b'5';
        let mut digits: Vec<u8> = self.int.bytes().chain(self.frac.bytes().take(n)).collect();
        if round_up {
            let mut i = digits.len();
            loop {
                if i == 0 {
                    digits.insert(0, b'1');
                    break;
                }
                i -= 1;
                if digits[i] == b'9' {
                    digits[i] = b'0';
                } else {
                    digits[i] += 1;
                    break;
                }
            }
        }
        let split = digits.len() - n;
        let text = String::from_utf8(digits).expect("ASCII digits");
        let int = text[..split].trim_start_matches('0');
        Decimal::new(
            self.negative,
            if int.is_empty() { "0" } else { int },
            &text[split..],
        )
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(&self.int)?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

/// A figure as a number: integers exact (an `f64` prints
/// `0x7fffffffffffffff` as 9223372036854776000).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i128),
    Float(f64),
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(n) => write!(f, "{n}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            // Within i64 as an i64: serializers without 128-bit integers
            // (and JSON readers) take it as they always did.
            Number::Int(n) => match i64::try_from(n) {
                Ok(n) => s.serialize_i64(n),
                Err(_) => s.serialize_i128(n),
            },
            Number::Float(x) => s.serialize_f64(x),
        }
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Formats a metric value with its unit: `4,500,000 people` / `450万人`.
/// A negative value's sign comes first, before a currency symbol in English
/// (`−S$1,234,567`) and before the number in Japanese (`−123万4,567円`).
pub fn value_with_unit(value: &Decimal, unit: Unit, lang: Lang) -> String {
    let number = match lang {
        Lang::En => group_thousands(value),
        Lang::Ja => japanese_number(value),
    };
    // The minus sign (U+2212), not a hyphen: a line never breaks after it,
    // so the sign stays with its figure.
    let sign = if value.negative { "\u{2212}" } else { "" };
    match (lang, unit) {
        (_, Unit::Percent) => format!("{sign}{number}%"),
        (Lang::En, Unit::Sgd) => format!("{sign}S${number}"),
        (Lang::En, Unit::Usd) => format!("{sign}US${number}"),
        (Lang::En, Unit::Jpy) => format!("{sign}¥{number}"),
        (Lang::En, Unit::Count) => format!("{sign}{number}"),
        (Lang::En, _) => format!("{sign}{number} {}", unit_word(unit, value.is_one())),
        (Lang::Ja, _) => format!("{sign}{number}{}", unit.japanese()),
    }
}

fn unit_word(unit: Unit, one: bool) -> &'static str {
    match unit {
        Unit::People => pick(one, "person", "people"),
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

/// The digits without the sign, grouped by thousands, with the fraction as
/// written: `1234567.50` → `1,234,567.50`.
pub fn group_thousands(value: &Decimal) -> String {
    let mut out = group(&value.int);
    push_fraction(&mut out, value);
    out
}

fn push_fraction(out: &mut String, value: &Decimal) {
    if !value.frac.is_empty() {
        out.push('.');
        out.push_str(&value.frac);
    }
}

/// The Japanese convention, one rule for whole numbers and decimals alike:
/// from 10,000 up the integer part is counted in myriads (万, 億, 兆, 京) and
/// each myriad's digits are grouped by thousands; the fraction follows the
/// digits below 万, which are written even when they are zero:
/// `1234567` → `123万4,567`, `12345.5` → `1万2,345.5`, `150000000.5` →
/// `1億5,000万0.5`. Below 10,000 numbers are grouped like English. No sign.
pub fn japanese_number(value: &Decimal) -> String {
    const UNITS: [&str; 5] = ["", "万", "億", "兆", "京"];
    let int = &value.int;
    if int.len() <= 4 {
        return group_thousands(value);
    }
    // The digits below 万, then each myriad above; whatever exceeds 京
    // stays with 京.
    let (rest, ones) = int.split_at(int.len() - 4);
    let mut myriads: Vec<&str> = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        let take = if myriads.len() == UNITS.len() - 2 {
            rest.len()
        } else {
            rest.len().min(4)
        };
        let (head, tail) = rest.split_at(rest.len() - take);
        myriads.push(tail);
        rest = head;
    }
    let mut out = String::new();
    for (i, digits) in myriads.iter().enumerate().rev() {
        let digits = digits.trim_start_matches('0');
        if !digits.is_empty() {
            out.push_str(&group(digits));
            out.push_str(UNITS[i + 1]);
        }
    }
    let ones = ones.trim_start_matches('0');
    if !ones.is_empty() || !value.frac.is_empty() {
        out.push_str(&group(if ones.is_empty() { "0" } else { ones }));
        push_fraction(&mut out, value);
    }
    out
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
    let mut v = value_with_unit(&m.figure, m.unit, lang);
    if m.illustrative {
        if lang == Lang::En {
            v.push(' ');
        }
        v.push_str(illustrative_marker(lang));
    }
    v
}

/// A metric's figure alone, without its unit (`{{metric ID number}}`):
/// `4,500,000`, `450万`, with the words that say it is illustrative.
pub fn metric_number(m: &Metric, lang: Lang) -> String {
    let value = &m.figure;
    let mut v = String::from(if value.negative { "\u{2212}" } else { "" });
    v.push_str(&match lang {
        Lang::En => group_thousands(value),
        Lang::Ja => japanese_number(value),
    });
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

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_keep_the_digits_as_written() {
        assert_eq!(d("0.005").to_string(), "0.005");
        assert_eq!(d("12.50").to_string(), "12.50");
        assert_eq!(d("4_500_000").to_string(), "4500000");
        assert_eq!(d("+007").to_string(), "7");
        assert_eq!(d("-0.0").to_string(), "0.0");
        assert!(Decimal::parse("1e6").is_none());
        assert!(Decimal::parse("1.").is_none());
        assert!(Decimal::parse("0x1F").is_none());
        assert_eq!(Decimal::from_f64(1.5e6).to_string(), "1500000");
        assert_eq!(Decimal::from_f64(2.5e-3).to_string(), "0.0025");
    }

    #[test]
    fn toml_literals_are_read_exactly() {
        let t = |s: &str| Decimal::parse_toml(s).map(|d| d.to_string());
        assert_eq!(
            t("0x7fffffffffffffff").as_deref(),
            Some("9223372036854775807")
        );
        assert_eq!(t("0o17").as_deref(), Some("15"));
        assert_eq!(t("0b101").as_deref(), Some("5"));
        assert_eq!(
            t("9.007199254740993e15").as_deref(),
            Some("9007199254740993")
        );
        assert_eq!(t("1.5e6").as_deref(), Some("1500000"));
        assert_eq!(t("-2.5E-3").as_deref(), Some("-0.0025"));
        assert_eq!(t("1.50e1").as_deref(), Some("15"));
        assert_eq!(t("12.50").as_deref(), Some("12.50"));
        assert_eq!(t("nan"), None);
        assert_eq!(
            d("9223372036854775807").number(),
            Number::Int(9223372036854775807)
        );
        assert_eq!(d("-12.00").number(), Number::Int(-12));
        assert_eq!(d("12.5").number(), Number::Float(12.5));
    }

    #[test]
    fn rounding_is_half_away_from_zero_on_the_digits() {
        // 0.005 and 2.675 are not exact in binary; on the digits they round up.
        assert_eq!(d("0.005").round(2).to_string(), "0.01");
        assert_eq!(d("2.675").round(2).to_string(), "2.68");
        assert_eq!(d("12.345").round(1).to_string(), "12.3");
        assert_eq!(d("9.995").round(2).to_string(), "10.00");
        assert_eq!(d("99.5").round(0).to_string(), "100");
        assert_eq!(d("-1.25").round(1).to_string(), "-1.3");
        assert_eq!(d("-0.004").round(2).to_string(), "0.00");
        assert_eq!(d("12.5").round(3).to_string(), "12.500");
    }

    #[test]
    fn english_groups_thousands() {
        assert_eq!(group_thousands(&d("1234567")), "1,234,567");
        assert_eq!(group_thousands(&d("999")), "999");
        assert_eq!(group_thousands(&d("1000")), "1,000");
        assert_eq!(group_thousands(&d("78.456")), "78.456");
        assert_eq!(group_thousands(&d("12.50")), "12.50");
        assert_eq!(group_thousands(&d("150000000.5")), "150,000,000.5");
    }

    #[test]
    fn japanese_uses_myriads_for_whole_numbers_and_decimals() {
        assert_eq!(japanese_number(&d("1234567")), "123万4,567");
        assert_eq!(japanese_number(&d("4500000")), "450万");
        assert_eq!(japanese_number(&d("125000000")), "1億2,500万");
        assert_eq!(japanese_number(&d("100000001")), "1億1");
        assert_eq!(japanese_number(&d("9999")), "9,999");
        assert_eq!(japanese_number(&d("97.5")), "97.5");
        assert_eq!(japanese_number(&d("12345")), "1万2,345");
        assert_eq!(japanese_number(&d("12345.5")), "1万2,345.5");
        assert_eq!(japanese_number(&d("150000000.5")), "1億5,000万0.5");
        assert_eq!(
            japanese_number(&d("123456789012345678901")),
            "12,345京6,789兆123億4,567万8,901"
        );
    }

    /// Each figure as `value_with_unit` writes it: (value, unit, language,
    /// expected).
    fn assert_figures(cases: &[(&str, Unit, Lang, &str)]) {
        for &(value, unit, lang, expected) in cases {
            assert_eq!(
                value_with_unit(&d(value), unit, lang),
                expected,
                "{value} {unit:?} in {lang:?}"
            );
        }
    }

    #[test]
    fn units_follow_the_language() {
        assert_figures(&[
            ("4500000", Unit::People, Lang::En, "4,500,000 people"),
            ("4500000", Unit::People, Lang::Ja, "450万人"),
            ("97", Unit::Percent, Lang::En, "97%"),
            ("97", Unit::Percent, Lang::Ja, "97%"),
            ("1500", Unit::Sgd, Lang::En, "S$1,500"),
            ("30000", Unit::Jpy, Lang::Ja, "3万円"),
            ("1", Unit::Courses, Lang::En, "1 course"),
            ("1.0", Unit::Hours, Lang::En, "1.0 hours"),
            ("0.005", Unit::Usd, Lang::En, "US$0.005"),
        ]);
    }

    #[test]
    fn negative_signs_lead_the_figure() {
        assert_figures(&[
            ("-1234567", Unit::Sgd, Lang::En, "−S$1,234,567"),
            (
                "-1234567",
                Unit::Sgd,
                Lang::Ja,
                "−123万4,567シンガポールドル",
            ),
            ("-2.5", Unit::Percent, Lang::En, "−2.5%"),
            ("-1", Unit::People, Lang::En, "−1 people"),
        ]);
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
