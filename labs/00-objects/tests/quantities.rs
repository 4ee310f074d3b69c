//! Graded tests for `objects-quantity`: quantities parse exactly as Kubernetes parses them.

use api::{Quantity, QuantityError, Scale, parse_suffix};

fn quantity(text: &str) -> Quantity {
    Quantity::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

#[test]
fn parses_binary_suffixes() {
    assert_eq!(quantity("1Gi").value(), 1_073_741_824);
    assert_eq!(quantity("128Mi").value(), 134_217_728);
    assert_eq!(quantity("1Ki").value(), 1024);
    assert_eq!(quantity("1.5Gi").value(), 1_610_612_736);
    assert_eq!(quantity("1Ei").value(), 1 << 60);
}

#[test]
fn parses_decimal_suffixes() {
    let half_cpu = quantity("500m");
    assert_eq!(half_cpu.millis(), 500);
    assert_eq!(half_cpu, quantity("0.5"), "500m is 0.5 CPU");
    assert_eq!(quantity("1k").value(), 1000);
    assert_eq!(quantity("2M").value(), 2_000_000);
    assert_eq!(quantity("1E").value(), 1_000_000_000_000_000_000);
    assert_eq!(quantity("100u").millis(), 1);
    assert_eq!(quantity("250n").millis(), 1);
    assert_eq!(quantity("4").millis(), 4000);
}

#[test]
fn parses_exponents() {
    assert_eq!(quantity("1e3").value(), 1000);
    assert_eq!(
        quantity("1E3").value(),
        1000,
        "E followed by digits is an exponent, not exa"
    );
    assert_eq!(quantity("5e-2").millis(), 50);
    assert_eq!(quantity("12E+1").value(), 120);
}

#[test]
fn maps_every_suffix_to_its_scale() {
    let expected = [
        ("Ki", Scale::Binary(10)),
        ("Mi", Scale::Binary(20)),
        ("Gi", Scale::Binary(30)),
        ("Ti", Scale::Binary(40)),
        ("Pi", Scale::Binary(50)),
        ("Ei", Scale::Binary(60)),
        ("n", Scale::Decimal(-9)),
        ("u", Scale::Decimal(-6)),
        ("m", Scale::Decimal(-3)),
        ("", Scale::Decimal(0)),
        ("k", Scale::Decimal(3)),
        ("M", Scale::Decimal(6)),
        ("G", Scale::Decimal(9)),
        ("T", Scale::Decimal(12)),
        ("P", Scale::Decimal(15)),
        ("E", Scale::Decimal(18)),
        ("e3", Scale::Decimal(3)),
        ("E-2", Scale::Decimal(-2)),
    ];
    for (suffix, scale) in expected {
        assert_eq!(parse_suffix(suffix), Ok(scale), "suffix {suffix:?}");
    }
}

#[test]
fn rounds_up_like_kubernetes() {
    // Value() and MilliValue() round up, away from zero: a container asking for 1.5 CPUs
    // must not be scheduled as if it asked for 1.
    assert_eq!(quantity("1.5").value(), 2);
    assert_eq!(quantity("1.1m").millis(), 2);
    assert_eq!(quantity("-1.5").value(), -2);
    assert_eq!(quantity("0").millis(), 0);
}

#[test]
fn rejects_unknown_suffixes() {
    for text in ["1K", "1mi", "1e", "1ki", "2Gii", "1e+"] {
        assert_eq!(
            Quantity::parse(text).unwrap_err(),
            QuantityError::Suffix,
            "{text:?}"
        );
    }
    assert_eq!(
        QuantityError::Suffix.to_string(),
        "unable to parse quantity's suffix"
    );
}

#[test]
fn rejects_text_that_is_not_a_quantity() {
    for text in ["", "Gi", "1 Gi", "1.0.0", "1Gb", "1Kib", "ten", "1e3.5"] {
        let error = Quantity::parse(text).unwrap_err();
        assert_eq!(error, QuantityError::FormatWrong, "{text:?}");
    }
    assert_eq!(
        QuantityError::FormatWrong.to_string(),
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    assert_eq!(Quantity::parse(".").unwrap_err(), QuantityError::Numeric);
}

#[test]
fn rejects_amounts_too_large_to_represent() {
    let too_many_digits = "9".repeat(40);
    assert_eq!(
        Quantity::parse(&too_many_digits).unwrap_err(),
        QuantityError::OutOfRange
    );
}

#[test]
fn keeps_the_spelling_for_serialization() {
    let q = quantity("0.5");
    assert_eq!(serde_json::to_string(&q).unwrap(), "\"0.5\"");
    assert_eq!(q.to_string(), "0.5");
    assert_eq!(Quantity::from_millis(250).to_string(), "250m");
    assert_eq!(Quantity::from_millis(250), quantity("0.25"));
}
