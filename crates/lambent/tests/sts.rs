//! AssumeRole against a real server on 127.0.0.1:0, with roles created in the data
//! directory's IAM store before it starts (until the IAM API serves CreateRole).

use lambent::config::{Pricing, RawConfig};
use lambent_aws::sigv4;
use lambent_store::iam::{IamStore, NewRole};

const ACCOUNT: &str = "000000000000";

fn role(store: &IamStore, name: &str, trust: &str) {
    store
        .create_role(&NewRole {
            name: name.into(),
            path: None,
            trust_policy: trust.into(),
            description: None,
            max_session_duration: Some(7200),
            permissions_boundary: None,
            tags: Vec::new(),
        })
        .unwrap();
}

struct Creds {
    id: String,
    secret: String,
    token: Option<String>,
}

/// A signed STS POST; returns the status and the body.
async fn sts(endpoint: &str, creds: &Creds, form: &str) -> (u16, String) {
    let authority = endpoint.trim_start_matches("http://");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let amz_date = sigv4::format_amz_date(now);
    let ctype = "application/x-www-form-urlencoded; charset=utf-8";
    let headers = [
        ("host", authority.as_bytes()),
        ("content-type", ctype.as_bytes()),
    ];
    let parts = sigv4::RequestParts {
        method: "POST",
        raw_path: "/",
        raw_query: "",
        headers: &headers,
    };
    let payload = sigv4::sha256_hex(form.as_bytes());
    let mut params = sigv4::SigningParams::new(
        &creds.id,
        &creds.secret,
        "us-east-1",
        "sts",
        &amz_date,
        &payload,
    );
    params.session_token = creds.token.as_deref();
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("{endpoint}/"))
        .header("host", authority)
        .header("content-type", ctype);
    for (k, v) in sigv4::sign(&parts, &params) {
        req = req.header(k, v);
    }
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let resp = client
        .request(req.body(form.to_string().into()).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    use http_body_util::BodyExt;
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let end = xml[start..].find(&format!("</{name}>")).unwrap_or(0);
    &xml[start..start + end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_follows_the_trust_policy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let store = IamStore::open(&data.join("iam"), ACCOUNT).unwrap();
        role(
            &store,
            "by-root",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
            ),
        );
        // Its sessions may assume it again (role chaining, below): the trust names only the
        // account, so the session's identity policy must allow sts:AssumeRole too.
        store
            .put_inline_policy(
                lambent_store::iam::EntityKind::Role,
                "by-root",
                "chain",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
            )
            .unwrap();
        role(
            &store,
            "by-other",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
        );
        role(
            &store,
            "with-external-id",
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ACCOUNT}"}},"Action":"sts:AssumeRole","Condition":{{"StringEquals":{{"sts:ExternalId":"Unique1234"}}}}}}]}}"#
            ),
        );
    }
    let config = RawConfig {
        region: "us-east-1".into(),
        max_concurrency: 2,
        keep_alive_secs: 60,
        examples: false,
        cpu_limits: "off".into(),
        stems: 0,
        async_retry_delay: "60s".into(),
        billing_granularity: "1ms".into(),
        pricing: Pricing::default(),
        runtimes_dir: std::env::var_os("LAMBENT_RUNTIMES_DIR").map(Into::into),
    }
    .validate()
    .unwrap();
    let data_dir = lambent::data_dir::DataDir::lock(&data).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lambent::run(listener, data_dir, config, async {
        let _ = stopped.await;
    }));
    let root = lambent::auth::load_or_create_root(&data).unwrap();
    let root = Creds {
        id: root.access_key_id,
        secret: root.secret_access_key,
        token: None,
    };
    // The server is ready once GetCallerIdentity answers.
    let mut ready = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(endpoint.trim_start_matches("http://"))
            .await
            .is_ok()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ready);
    let assume = |arn: &str, extra: &str| {
        format!("Action=AssumeRole&Version=2011-06-15&RoleArn={arn}&RoleSessionName=s-1{extra}")
    };
    let arn = |name: &str| format!("arn%3Aaws%3Aiam%3A%3A{ACCOUNT}%3Arole%2F{name}");

    let (status, body) = sts(&endpoint, &root, &assume(&arn("by-root"), "")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body
        .starts_with("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
    assert_eq!(
        element(&body, "Arn"),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/by-root/s-1")
    );
    assert!(element(&body, "AssumedRoleId").starts_with("AROA"));
    assert!(element(&body, "AssumedRoleId").ends_with(":s-1"));
    assert!(!body.contains("PackedPolicySize"));
    let session = Creds {
        id: element(&body, "AccessKeyId").to_string(),
        secret: element(&body, "SecretAccessKey").to_string(),
        token: Some(element(&body, "SessionToken").to_string()),
    };
    assert!(session.id.starts_with("ASIA"));
    let (status, body) = sts(
        &endpoint,
        &session,
        "Action=GetCallerIdentity&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        element(&body, "Arn"),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/by-root/s-1")
    );

    let denied = |name: &str| {
        format!(
            "User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/{name}"
        )
    };
    let (status, body) = sts(&endpoint, &root, &assume(&arn("by-other"), "")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(element(&body, "Code"), "AccessDenied");
    assert_eq!(element(&body, "Message"), denied("by-other"));

    let (status, body) = sts(
        &endpoint,
        &root,
        &assume(&arn("with-external-id"), "&ExternalId=Wrong1234"),
    )
    .await;
    assert_eq!(
        (status, element(&body, "Message")),
        (403, denied("with-external-id").as_str())
    );
    let (status, body) = sts(&endpoint, &root, &assume(&arn("with-external-id"), "")).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = sts(
        &endpoint,
        &root,
        &assume(&arn("with-external-id"), "&ExternalId=Unique1234"),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Over the role's MaxSessionDuration (7200), and a session policy.
    let (status, body) = sts(
        &endpoint,
        &root,
        &assume(&arn("by-root"), "&DurationSeconds=7201"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        element(&body, "Message"),
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    );
    let policy = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
    let (status, body) = sts(
        &endpoint,
        &root,
        &assume(
            &arn("by-root"),
            &format!("&DurationSeconds=7200&Policy={policy}"),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(element(&body, "PackedPolicySize").parse::<u32>().unwrap() > 0);
    let (status, body) = sts(
        &endpoint,
        &root,
        &assume(&arn("by-root"), "&Policy=%7Bnot-json"),
    )
    .await;
    assert_eq!(
        (status, element(&body, "Code")),
        (400, "MalformedPolicyDocument"),
        "{body}"
    );

    // Role chaining: a session may assume on for at most an hour.
    let (status, body) = sts(
        &endpoint,
        &session,
        &assume(&arn("by-root"), "&DurationSeconds=3601"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(element(&body, "Message").contains("role chaining"));

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
