//! The `fanout` Lambda's sinks from SSM, against the emulator, as its binary builds
//! them: the sinks YAML read from a SecureString parameter, a webhook signing with
//! a secret read from another (`secret_ssm`), the documented fallback to the alert
//! topics when the parameter does not exist, and errors that name the parameter a
//! deployment got wrong.

use crate::aws_env::{endpoint, put_secure, sdk_config, unique};
use crate::webhook::spawn_receiver;
use cspm::config::lambda::LambdaConfig;
use cspm::lambda::fanout::{fanout, FanoutLambda, FanoutSetupError};
use cspm::sinks::config::BuildError;
use cspm::sinks::secrets::SecretError;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A parameter path no other test uses.
fn path(leaf: &str) -> String {
    format!("/{}/{leaf}", unique("cspm"))
}

/// The fanout's configuration: its environment as Terraform sets it.
fn config(sinks_parameter: &str, standard_topic: Option<&str>) -> LambdaConfig {
    LambdaConfig::from_lookup(|k| match k {
        // Read only by the audit log and the live sink, neither configured here.
        "CSPM_TABLE_NAME" => Some("findings".to_string()),
        "CSPM_SINKS_PARAMETER" => Some(sinks_parameter.to_string()),
        "CSPM_SNS_STANDARD_TOPIC_ARN" => standard_topic.map(str::to_string),
        _ => None,
    })
    .unwrap()
}

/// The fanout's setup error (the fanout itself has no `Debug`).
async fn setup_error(config: &LambdaConfig, sdk: &aws_config::SdkConfig) -> FanoutSetupError {
    match fanout(config, sdk).await {
        Ok(_) => panic!("the fanout started"),
        Err(e) => e,
    }
}

fn sink_names(lambda: &FanoutLambda) -> Vec<&str> {
    lambda.fanout.sinks.iter().map(|s| s.name()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fanout_reads_its_sinks_from_ssm_and_signs_with_a_secret_from_ssm() {
    let Some(ep) = endpoint("fanout_sinks_from_ssm") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let secret = path("hook-secret");
    put_secure(&ssm, &secret, "from-ssm-s3cret").await;
    let (r, url) = spawn_receiver().await;
    let sinks = path("sinks");
    let yaml = format!(
        "sinks:\n  - {{name: hook, kind: webhook, url: \"{url}\", secret_ssm: \"{secret}\"}}\n  - {{name: trail, kind: log}}\n"
    );
    put_secure(&ssm, &sinks, &yaml).await;

    let lambda = match fanout(&config(&sinks, None), &sdk).await {
        Ok(l) => l,
        Err(e) => panic!("the fanout did not start: {e}"),
    };
    // The file's sinks, in its order (the live sink follows when configured).
    assert_eq!(sink_names(&lambda)[..2], ["hook", "trail"]);
    let hook = &lambda.fanout.sinks[0];
    assert_eq!(hook.channel(), Some("webhook"));
    hook.send(&[cspm::cli::sinks::test_change()]).await.unwrap();

    // The receiver verifies the signature with the value stored in SSM.
    let requests = r.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    let (headers, body, _) = &requests[0];
    let ts = headers["x-cspm-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"from-ssm-s3cret").unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers["x-cspm-signature"].to_str().unwrap(), want);
}

#[tokio::test]
async fn a_secret_parameter_that_does_not_exist_stops_the_fanout_naming_it() {
    let Some(ep) = endpoint("fanout_missing_secret") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let missing = path("no-such-secret");
    let sinks = path("sinks");
    let yaml = format!(
        "sinks:\n  - {{name: hook, kind: webhook, url: \"https://hooks.example.com/cspm\", secret_ssm: \"{missing}\"}}\n"
    );
    put_secure(&ssm, &sinks, &yaml).await;
    let e = setup_error(&config(&sinks, None), &sdk).await;
    let text = e.to_string();
    match e {
        FanoutSetupError::Build(BuildError::Secret {
            sink,
            source: SecretError::Ssm { name, .. },
        }) => {
            assert_eq!((sink.as_str(), name.as_str()), ("hook", missing.as_str()));
        }
        other => panic!("expected the missing secret, got {other}"),
    }
    // What the Lambda logs at cold start says which sink and which parameter.
    assert!(
        text.contains("\"hook\"") && text.contains(&missing),
        "{text}"
    );
}

#[tokio::test]
async fn without_its_parameter_the_fanout_alerts_through_the_topics_and_bad_yaml_names_it() {
    let Some(ep) = endpoint("fanout_sinks_parameter_fallback") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    let sinks = path("sinks");
    let topic = "arn:aws:sns:us-east-1:123456789012:standard";
    // Terraform names the parameter whether or not it creates it: absent means the
    // alert topics, as before sinks existed.
    let lambda = match fanout(&config(&sinks, Some(topic)), &sdk).await {
        Ok(l) => l,
        Err(e) => panic!("the fanout did not start: {e}"),
    };
    assert_eq!(sink_names(&lambda)[0], "alerts");
    assert_eq!(lambda.fanout.sinks[0].channel(), Some("sns"));

    // Present but wrong: the fanout refuses to start, naming the parameter and the line.
    put_secure(&ssm, &sinks, "sinks:\n  - {name: pager, kind: pager}\n").await;
    let e = setup_error(&config(&sinks, Some(topic)), &sdk).await;
    let text = e.to_string();
    match e {
        FanoutSetupError::Invalid { name, problems } => {
            assert_eq!(name, sinks);
            assert!(
                problems.contains("line 2") && problems.contains("pager"),
                "{problems}"
            );
        }
        other => panic!("expected the invalid sinks file, got {other}"),
    }
    assert!(text.contains(&sinks), "{text}");
}
