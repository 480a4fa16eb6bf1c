use crate::{
    ArgNode, Args, Batch, Column, CompareOp, IrNode, PluginError, PredicateBuilder, TextColumn, TextMode, Value,
};

/// `{"within": {"amount": 30, "unit": "days"}, "tags": ["a", 2.5]}`, built by hand.
fn nested() -> Args {
    Args {
        nodes: vec![
            ArgNode::Integer(30),
            ArgNode::Text("days".into()),
            ArgNode::Object(vec![("amount".into(), 0), ("unit".into(), 1)]),
            ArgNode::Text("a".into()),
            ArgNode::Number(2.5),
            ArgNode::List(vec![3, 4]),
            ArgNode::Object(vec![("within".into(), 2), ("tags".into(), 5)]),
        ],
    }
}

#[test]
fn args_read_with_paths() {
    let args = nested();
    let value = args.value();
    let within = value.get("within").unwrap();
    assert_eq!(within.get("amount").unwrap().as_i64(), Ok(30));
    assert_eq!(within.get("unit").unwrap().as_str(), Ok("days"));
    let error = within.get("unit").unwrap().as_f64().unwrap_err();
    assert_eq!(
        error,
        PluginError::at("value.within.unit", "expected a number, found a string")
    );
    let tags = value.get("tags").unwrap().items().unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[1].path(), "value.tags[1]");
    assert_eq!(tags[1].as_f64(), Ok(2.5));
    assert_eq!(
        tags[1].as_i64().unwrap_err().to_text(),
        "value.tags[1]: expected a whole number, found a number"
    );
    let missing = value.get("times").unwrap();
    assert!(missing.is_absent());
    assert!(missing.clone().optional().is_none());
    assert_eq!(
        missing.as_i64().unwrap_err().to_text(),
        "value.times: expected a whole number, found nothing"
    );
    assert_eq!(
        value.as_bool().unwrap_err().to_text(),
        "value: expected a boolean, found an object"
    );
    assert_eq!(
        value.deny_unknown_keys(&["within"]).unwrap_err().to_text(),
        "value.tags: unknown key; expected one of: within"
    );
    assert_eq!(value.entries().unwrap().len(), 2);
}

#[test]
fn args_absent_null_and_scalars() {
    let none = Args::none();
    assert!(none.value().is_absent());
    assert_eq!(none.params().as_str().unwrap_err().path.as_deref(), Some("params"));
    let null = Args {
        nodes: vec![ArgNode::Null],
    };
    assert!(null.value().is_null());
    assert!(null.value().optional().is_none());
    assert_eq!(null.value().to_value(), Ok(Value::Null));
    let whole = Args {
        nodes: vec![ArgNode::Number(3.0)],
    };
    assert_eq!(whole.value().as_i64(), Ok(3));
    assert_eq!(
        nested().value().to_value().unwrap_err().to_text(),
        "value: expected a single value, found an object"
    );
}

#[test]
fn args_refuse_forward_references() {
    let cyclic = Args {
        nodes: vec![ArgNode::List(vec![0])],
    };
    assert!(!cyclic.is_well_formed());
    let error = cyclic.value().items().unwrap_err();
    assert_eq!(error.path.as_deref(), Some("value[0]"));
    assert!(error.message.starts_with("malformed argument tree"));
    assert!(nested().is_well_formed());
}

#[test]
fn args_from_json_put_children_first() {
    let json = serde_json::json!({"within": {"amount": 30, "unit": "days"}, "tags": ["a", 2.5]});
    let args = Args::from_json(&json);
    assert!(args.is_well_formed());
    assert_eq!(args.to_json(), Some(json));
    assert_eq!(
        args.value().get("within").unwrap().get("amount").unwrap().as_i64(),
        Ok(30)
    );
    assert_eq!(Args::from_json(&serde_json::json!(1.5)).nodes, [ArgNode::Number(1.5)]);
    assert_eq!(Args::from_json(&serde_json::json!(-7)).nodes, [ArgNode::Integer(-7)]);
    assert_eq!(Args::none().to_json(), None);
}

#[test]
fn builder_orders_children_first_and_roots_last() {
    let mut b = PredicateBuilder::new();
    let a = b.compare("score", CompareOp::Ge, 50);
    let c = b.range("created_at", Value::Datetime(0), Value::Datetime(10));
    let unused = b.never();
    let or = b.or(&[a, c]);
    let _after_root = b.always();
    let predicate = b.finish(or);
    assert_eq!(predicate.nodes.len(), 4, "nodes after the root are dropped");
    assert!(matches!(predicate.nodes[unused.index() as usize], IrNode::Never));
    assert!(predicate.check().is_ok());
    assert_eq!(
        predicate.to_string(),
        "or(ge(score, 50), range(created_at, datetime(0), datetime(10)))"
    );

    let mut b = PredicateBuilder::new();
    let empty = b.is_empty("name");
    let not = b.not(empty);
    let text = b.text("name", TextMode::Suffix, "ski", false);
    let set = b.in_set("city", vec!["Kraków".into(), Value::Null]);
    let geo = b.geo_box(49.0, 51.0, 19.0, 21.5);
    let residual = b.residual(
        "near",
        "location",
        &Args {
            nodes: vec![ArgNode::Integer(5)],
        },
    );
    let root = b.and(&[not, text, set, geo, residual]);
    assert_eq!(
        b.finish(root).to_string(),
        r#"and(not(is-empty(name)), suffix(name, "ski"), in(city, ["Kraków", null]), geo(49.0..51.0, 19.0..21.5), residual(near, location, 5))"#
    );
}

#[test]
fn check_finds_what_the_host_refuses() {
    use crate::Predicate;
    assert!(Predicate { nodes: vec![] }.check().is_err());
    assert!(
        Predicate {
            nodes: vec![IrNode::Not(0)]
        }
        .check()
        .is_err()
    );
    assert!(
        Predicate {
            nodes: vec![IrNode::And(vec![1]), IrNode::And(vec![0])]
        }
        .check()
        .is_err()
    );
    assert!(
        Predicate {
            nodes: vec![IrNode::Always, IrNode::Or(vec![0, 9])]
        }
        .check()
        .is_err()
    );
    assert!(Predicate::single(IrNode::Always).check().is_ok());
    assert_eq!(
        Predicate {
            nodes: vec![IrNode::Not(3)]
        }
        .to_string(),
        "not(<bad index 3>)"
    );
}

#[test]
fn batch_texts_read_in_place() {
    let batch = Batch::from_texts([Some("ab"), None, Some("Łódź"), Some("")]);
    assert_eq!(batch.len(), 4);
    let texts: Vec<Option<&str>> = batch.texts().unwrap().collect();
    assert_eq!(texts, [Some("ab"), None, Some("Łódź"), Some("")]);
    assert!(batch.numbers().is_err());

    let off_char = Batch {
        values: Column::Texts(TextColumn {
            bytes: "Ł".as_bytes().to_vec(),
            ends: vec![1, 2],
        }),
        nulls: vec![false, false],
    };
    assert!(off_char.texts().is_err());
    let backwards = Batch {
        values: Column::Texts(TextColumn {
            bytes: b"abc".to_vec(),
            ends: vec![2, 1],
        }),
        nulls: vec![],
    };
    assert!(backwards.texts().is_err());
    let past_end = Batch {
        values: Column::Texts(TextColumn {
            bytes: b"abc".to_vec(),
            ends: vec![9],
        }),
        nulls: vec![],
    };
    assert!(past_end.texts().is_err());
}

#[test]
fn batch_numbers_booleans_points() {
    let numbers = Batch::from_numbers([Some(1.5), None]);
    assert_eq!(numbers.numbers().unwrap().collect::<Vec<_>>(), [Some(1.5), None]);
    let integers = Batch::from_integers([Some(2), Some(3)]);
    assert_eq!(integers.numbers().unwrap().collect::<Vec<_>>(), [Some(2.0), Some(3.0)]);
    assert_eq!(integers.integers().unwrap().collect::<Vec<_>>(), [Some(2), Some(3)]);
    let booleans = Batch::from_booleans([None, Some(true)]);
    assert_eq!(booleans.booleans().unwrap().collect::<Vec<_>>(), [None, Some(true)]);
    let points = Batch::from_points([Some((50.06, 19.94)), None]);
    assert_eq!(points.len(), 2);
    assert_eq!(
        points.points().unwrap().collect::<Vec<_>>(),
        [Some((50.06, 19.94)), None]
    );
    assert_eq!(
        points.integers().err().map(|e| e.message),
        Some("expected a column of integers, got points".to_owned())
    );
}

#[test]
fn periods_read_with_paths() {
    use crate::calendar::{Period, Unit};
    let args = nested();
    let within = args.value().get("within").unwrap();
    assert_eq!(
        Period::from_arg(&within),
        Ok(Period {
            amount: 30,
            unit: Unit::Days
        })
    );
    let period = |amount: ArgNode, unit: ArgNode| Args {
        nodes: vec![
            amount,
            unit,
            ArgNode::Object(vec![("amount".into(), 0), ("unit".into(), 1)]),
        ],
    };
    let error = |args: Args| Period::from_arg(&args.value()).unwrap_err().to_text();
    assert_eq!(
        error(period(ArgNode::Integer(1), ArgNode::Text("weeks".into()))),
        "value.unit: expected one of days, months, years"
    );
    assert_eq!(
        error(period(ArgNode::Integer(1), ArgNode::Integer(7))),
        "value.unit: expected one of days, months, years"
    );
    assert_eq!(
        error(period(ArgNode::Integer(-1), ArgNode::Text("days".into()))),
        "value.amount: expected a whole number, 0 or more"
    );
    assert_eq!(
        error(period(ArgNode::Number(1.5), ArgNode::Text("days".into()))),
        "value.amount: expected a whole number, found a number"
    );
    assert_eq!(
        error(Args {
            nodes: vec![ArgNode::Integer(1), ArgNode::Object(vec![("amount".into(), 0)])],
        }),
        "value.unit: expected one of days, months, years"
    );
    assert_eq!(
        error(Args {
            nodes: vec![ArgNode::Integer(1), ArgNode::Object(vec![("every".into(), 0)])],
        }),
        "value.every: unknown key; expected one of: amount, unit"
    );
    assert_eq!(error(Args::none()), "value: expected an object, found nothing");
}

#[test]
fn now_is_the_system_clock_natively() {
    let clock = || {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        i64::try_from(since.as_secs()).unwrap()
    };
    let before = clock();
    let now = crate::now();
    assert!(before <= now && now <= clock(), "{before} {now}");
}
