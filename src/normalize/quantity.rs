//! Kubernetes resource quantities (`500m`, `1Gi`, `1.5`, `2e3`) compared by value.
//!
//! A quantity is parsed into an exact decimal (no floating point), then written back in one
//! canonical spelling so that equal values are equal strings: binary suffixes when the value is a
//! whole number of KiB or more, decimal suffixes for other whole numbers of thousands, milli/micro/
//! nano units for fractions. `1024Mi` and `1Gi` both become `1Gi`; `1000m`, `1` and `1.0` become `1`.

/// An exact decimal: `mantissa * 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Parses a quantity string; `None` when it is not one (it is then compared as written).
fn parse(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let (number, multiplier): (&str, Multiplier) = split_suffix(text)?;
    let (negative, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    if digits.is_empty() {
        return None;
    }
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut mantissa: i128 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(b - b'0'))?;
    }
    let mut value = Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        scale: u32::try_from(fraction.len()).ok()?,
    };
    match multiplier {
        Multiplier::Binary(power) => {
            value.mantissa = value.mantissa.checked_mul(1024i128.checked_pow(power)?)?;
        }
        Multiplier::Decimal(exponent) => {
            if exponent >= 0 {
                value.mantissa = value
                    .mantissa
                    .checked_mul(10i128.checked_pow(exponent.unsigned_abs())?)?;
            } else {
                value.scale += exponent.unsigned_abs();
            }
        }
    }
    Some(value.reduced())
}

enum Multiplier {
    Binary(u32),
    Decimal(i32),
}

fn split_suffix(text: &str) -> Option<(&str, Multiplier)> {
    const BINARY: [(&str, u32); 6] = [
        ("Ki", 1),
        ("Mi", 2),
        ("Gi", 3),
        ("Ti", 4),
        ("Pi", 5),
        ("Ei", 6),
    ];
    for (suffix, power) in BINARY {
        if let Some(number) = text.strip_suffix(suffix) {
            return Some((number, Multiplier::Binary(power)));
        }
    }
    // Exponent form: 1e3, 1.5E-3.
    if let Some(i) = text.find(['e', 'E']) {
        let (number, exp) = (&text[..i], &text[i + 1..]);
        if !exp.is_empty()
            && exp
                .trim_start_matches(['+', '-'])
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            let exponent: i32 = exp.parse().ok()?;
            return Some((number, Multiplier::Decimal(exponent)));
        }
    }
    const DECIMAL: [(char, i32); 9] = [
        ('n', -9),
        ('u', -6),
        ('m', -3),
        ('k', 3),
        ('M', 6),
        ('G', 9),
        ('T', 12),
        ('P', 15),
        ('E', 18),
    ];
    if let Some(last) = text.chars().last() {
        for (suffix, exponent) in DECIMAL {
            if last == suffix {
                return Some((&text[..text.len() - 1], Multiplier::Decimal(exponent)));
            }
        }
    }
    Some((text, Multiplier::Decimal(0)))
}

impl Decimal {
    fn reduced(mut self) -> Self {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    fn canonical(self) -> String {
        if self.scale == 0 {
            let n = self.mantissa;
            if n == 0 {
                return "0".into();
            }
            for (suffix, power) in [
                ("Ei", 6),
                ("Pi", 5),
                ("Ti", 4),
                ("Gi", 3),
                ("Mi", 2),
                ("Ki", 1),
            ] {
                let unit = 1024i128.pow(power);
                if n % unit == 0 {
                    return format!("{}{suffix}", n / unit);
                }
            }
            for (suffix, power) in [
                ("E", 18),
                ("P", 15),
                ("T", 12),
                ("G", 9),
                ("M", 6),
                ("k", 3),
            ] {
                let unit = 10i128.pow(power);
                if n % unit == 0 {
                    return format!("{}{suffix}", n / unit);
                }
            }
            return n.to_string();
        }
        // Fractions: the largest of milli, micro, nano that holds the value whole.
        for (suffix, digits) in [("m", 3u32), ("u", 6), ("n", 9)] {
            if self.scale <= digits {
                let n = self.mantissa * 10i128.pow(digits - self.scale);
                return format!("{n}{suffix}");
            }
        }
        // Finer than a nano-unit: Kubernetes rounds up to 1n; keep the exact decimal instead.
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let sign = if self.mantissa < 0 { "-" } else { "" };
        format!(
            "{sign}{}.{}",
            &padded[..padded.len() - scale],
            &padded[padded.len() - scale..]
        )
    }
}

/// The canonical spelling of a quantity given as a string or a number; `None` when it is not one.
pub fn canonical(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => parse(s).map(Decimal::canonical),
        serde_json::Value::Number(n) => parse(&n.to_string()).map(Decimal::canonical),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(v: serde_json::Value) -> String {
        canonical(&v).unwrap()
    }

    #[test]
    fn equal_values_have_one_spelling() {
        assert_eq!(c(json!("1000m")), c(json!("1")));
        assert_eq!(c(json!("1Gi")), c(json!("1024Mi")));
        assert_eq!(c(json!(40)), c(json!("40")));
        assert_eq!(c(json!(1.0)), c(json!("1")));
        assert_eq!(c(json!("0.5")), c(json!("500m")));
        assert_eq!(c(json!("1e3")), c(json!("1k")));
        assert_eq!(c(json!("1073741824")), "1Gi");
        assert_eq!(c(json!("1.5")), "1500m");
        assert_eq!(c(json!("128974848")), "123Mi");
    }

    #[test]
    fn different_values_differ() {
        assert_ne!(c(json!("1Gi")), c(json!("1G")));
        assert_ne!(c(json!("100m")), c(json!("1")));
    }

    #[test]
    fn non_quantities_are_left_alone() {
        assert_eq!(canonical(&json!("abc")), None);
        assert_eq!(canonical(&json!("1x")), None);
        assert_eq!(canonical(&json!("")), None);
        assert_eq!(canonical(&json!(true)), None);
    }
}
