//! The S3 scenarios, through lambent's S3 API on the same endpoint (path-style, SigV4 for
//! service `s3` with the bench's credentials and each body's real SHA-256, hashed once
//! before the run). `s3-put` and `s3-get` run N clients for the scenario's duration per
//! object size (4 KiB and 1 MiB): each put client overwrites a key of its own, the get clients
//! all read one object; they report objects/s, MB/s and latency. `s3-notify` measures from
//! just before a PutObject is sent to a warm Python function, named by the bucket's
//! notification configuration, starting on its `ObjectCreated` event. Every scenario works
//! in a bucket `lambent-bench-<random>` of its own, emptied and deleted at the end.

use super::{delete, invoke, logged_start, python_function, summarize, unix_nanos, Load, Summary};
use crate::cli::client::{segment, Call, Client, Reply};
use bytes::Bytes;
use lambent_aws::sigv4;
use std::time::{Duration, Instant};

/// The object sizes measured: a label for the rows, a tag for the keys, the size in bytes.
const SIZES: [(&str, &str, usize); 2] = [("4 KiB", "4k", 4 << 10), ("1 MiB", "1m", 1 << 20)];

/// The pause before each notification sample, so each put meets an idle function: the
/// scenario measures latency, not a backlog.
const NOTIFY_SPACING: Duration = Duration::from_millis(10);

/// How long one notification may take to reach the function before the scenario fails.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// An object body sent many times: built, and its SHA-256 computed, before the clock starts.
#[derive(Clone)]
struct Object {
    label: &'static str,
    tag: &'static str,
    data: Bytes,
    sha256: String,
}

impl Object {
    fn new((label, tag, size): (&'static str, &'static str, usize)) -> Object {
        // Not all zeros, so nothing on the way could shortcut it.
        let data: Bytes = (0..size)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>()
            .into();
        Object {
            label,
            tag,
            sha256: sigv4::sha256_hex(&data),
            data,
        }
    }
}

/// One S3 call, signed for service `s3`.
async fn call(
    client: &Client,
    method: &str,
    path: &str,
    query: &str,
    body: Bytes,
    sha256: &str,
) -> anyhow::Result<Reply> {
    client
        .send_hashed(
            Call {
                service: "s3",
                method,
                path,
                query,
                headers: &[],
                body,
                progress: None,
            },
            sha256,
        )
        .await
}

/// One S3 call with a small body (hashed here); fails with S3's error code unless 2xx.
async fn control(
    client: &Client,
    method: &str,
    path: &str,
    query: &str,
    body: &str,
) -> anyhow::Result<Reply> {
    let body = Bytes::from(body.to_string());
    let sha256 = sigv4::sha256_hex(&body);
    let reply = call(client, method, path, query, body, &sha256).await?;
    if (200..300).contains(&reply.status) {
        return Ok(reply);
    }
    let text = String::from_utf8_lossy(&reply.body);
    let code = text
        .split("<Code>")
        .nth(1)
        .and_then(|rest| rest.split("</Code>").next())
        .unwrap_or("");
    anyhow::bail!(
        "S3 {method} {path}?{query} answered {}: {code}",
        reply.status
    )
}

/// A bucket the bench created, with every key it may have written.
struct Bucket {
    name: String,
    keys: Vec<String>,
}

impl Bucket {
    async fn create(client: &Client) -> anyhow::Result<Bucket> {
        let name = format!(
            "lambent-bench-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        control(client, "PUT", &format!("/{name}"), "", "").await?;
        Ok(Bucket {
            name,
            keys: Vec::new(),
        })
    }

    /// The path of `key` (made of letters, digits and `-`, so nothing to encode).
    fn path(&self, key: &str) -> String {
        format!("/{}/{key}", self.name)
    }

    /// Empties and deletes the bucket (best effort: the run's figures matter more, but a
    /// failure is said, since it leaves data behind).
    async fn remove(self, client: &Client) {
        for chunk in self.keys.chunks(1000) {
            let mut xml = String::from("<Delete><Quiet>true</Quiet>");
            for key in chunk {
                xml.push_str(&format!("<Object><Key>{key}</Key></Object>"));
            }
            xml.push_str("</Delete>");
            let path = format!("/{}", self.name);
            match control(client, "POST", &path, "delete", &xml).await {
                Ok(r) if !String::from_utf8_lossy(&r.body).contains("<Error>") => {}
                Ok(_) => eprintln!("bench: some objects of {} were not deleted", self.name),
                Err(e) => eprintln!("bench: emptying {}: {e:#}", self.name),
            }
        }
        if let Err(e) = control(client, "DELETE", &format!("/{}", self.name), "", "").await {
            eprintln!("bench: deleting bucket {}: {e:#}", self.name);
        }
    }
}

/// PutObject and GetObject under load, per size: rows for the puts (if `put`), then for the
/// gets (if `get`).
pub async fn objects(
    client: &Client,
    put: bool,
    get: bool,
    load: Load,
) -> anyhow::Result<Vec<Summary>> {
    let objects: Vec<Object> = SIZES.into_iter().map(Object::new).collect();
    let mut bucket = Bucket::create(client).await?;
    let measured = objects_in(client, &mut bucket, &objects, put, get, load).await;
    bucket.remove(client).await;
    measured
}

async fn objects_in(
    client: &Client,
    bucket: &mut Bucket,
    objects: &[Object],
    put: bool,
    get: bool,
    load: Load,
) -> anyhow::Result<Vec<Summary>> {
    let mut out = Vec::new();
    if put {
        for object in objects {
            let paths: Vec<String> = (0..load.clients)
                .map(|c| format!("put-{}-{c}", object.tag))
                .collect();
            bucket.keys.extend(paths.iter().cloned());
            let paths = paths.iter().map(|k| bucket.path(k)).collect();
            out.push(run(client, Op::Put, paths, object, load).await?);
        }
    }
    if get {
        for object in objects {
            let key = format!("get-{}", object.tag);
            bucket.keys.push(key.clone());
            let path = bucket.path(&key);
            let reply = call(
                client,
                "PUT",
                &path,
                "",
                object.data.clone(),
                &object.sha256,
            )
            .await?;
            anyhow::ensure!(reply.status == 200, "PutObject answered {}", reply.status);
            out.push(run(client, Op::Get, vec![path; load.clients], object, load).await?);
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Put,
    Get,
}

/// `load.clients` clients, client `c` calling `op` on `paths[c]` for `load.duration`.
async fn run(
    client: &Client,
    op: Op,
    paths: Vec<String>,
    object: &Object,
    load: Load,
) -> anyhow::Result<Summary> {
    let empty_sha256 = sigv4::sha256_hex(b"");
    let deadline = Instant::now() + load.duration;
    let mut tasks = Vec::with_capacity(paths.len());
    for path in paths {
        let (client, object, empty_sha256) = (client.clone(), object.clone(), empty_sha256.clone());
        tasks.push(tokio::spawn(async move {
            let (mut samples, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = match op {
                    Op::Put => {
                        let reply = call(
                            &client,
                            "PUT",
                            &path,
                            "",
                            object.data.clone(),
                            &object.sha256,
                        )
                        .await;
                        matches!(reply, Ok(r) if r.status == 200)
                    }
                    Op::Get => {
                        let reply = call(&client, "GET", &path, "", Bytes::new(), &empty_sha256).await;
                        matches!(reply, Ok(r) if r.status == 200 && r.body.len() == object.data.len())
                    }
                };
                if ok {
                    samples.push(t.elapsed().as_secs_f64() * 1e6);
                } else {
                    errors += 1;
                }
            }
            (samples, errors)
        }));
    }
    let started = Instant::now();
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (s, e) = t.await?;
        all.extend(s);
        errors += e;
    }
    let elapsed = started.elapsed().max(load.duration).as_secs_f64();
    let verb = match op {
        Op::Put => "put",
        Op::Get => "get",
    };
    let label = format!("s3 {verb} {}, {} clients", object.label, load.clients);
    let mut summary = summarize(label, all, vec![]);
    let rate = summary.samples as f64 / elapsed;
    summary.per_second = Some(rate);
    summary.mb_per_second = Some(rate * object.data.len() as f64 / 1e6);
    summary.errors = errors;
    Ok(summary)
}

/// The function the notifications start: it logs each record's key with the time it started.
const NOTIFIED: &str = "\
import time
def handler(event, context):
    started = time.time_ns()
    for record in event.get('Records', []):
        print('lambent-bench-start', record['s3']['object']['key'], started)
";

/// From PutObject to the function starting, over `samples` puts (plus one not counted).
pub async fn notify(client: &Client, samples: usize) -> anyhow::Result<Summary> {
    let name = python_function(client, "s3-notify", NOTIFIED).await?;
    let measured = match Bucket::create(client).await {
        Ok(mut bucket) => {
            let measured = notify_in(client, &name, &mut bucket, samples).await;
            bucket.remove(client).await;
            measured
        }
        Err(e) => Err(e),
    };
    delete(client, &name).await;
    let (micros, errors) = measured?;
    let mut summary = summarize("s3 notify python, put to start".into(), micros, vec![]);
    summary.errors = errors;
    Ok(summary)
}

async fn notify_in(
    client: &Client,
    name: &str,
    bucket: &mut Bucket,
    samples: usize,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let arn = client
        .lambda(
            "GET",
            &format!("/2015-03-31/functions/{}", segment(name)),
            "",
            None,
        )
        .await?
        .ok()?
        .json()?["Configuration"]["FunctionArn"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("GetFunction gave no FunctionArn"))?;
    let config = format!(
        "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <CloudFunctionConfiguration><Id>lambent-bench</Id><CloudFunction>{arn}</CloudFunction>\
         <Event>s3:ObjectCreated:*</Event></CloudFunctionConfiguration></NotificationConfiguration>"
    );
    // As on AWS, S3 notifies only a function whose policy lets S3 invoke it for the bucket.
    let permission = serde_json::json!({
        "StatementId": "lambent-bench-s3",
        "Action": "lambda:InvokeFunction",
        "Principal": "s3.amazonaws.com",
        "SourceArn": format!("arn:aws:s3:::{}", bucket.name),
    });
    client
        .lambda(
            "POST",
            &format!("/2015-03-31/functions/{}/policy", segment(name)),
            "",
            Some(&permission),
        )
        .await?
        .ok()?;
    let bucket_path = format!("/{}", bucket.name);
    control(client, "PUT", &bucket_path, "notification", &config).await?;
    // Warm: the scenario measures delivery, not a cold start.
    invoke(client, name, false).await?;
    let object = Object::new(SIZES[0]);
    let group = crate::logs::group_name(name);
    let (mut out, mut errors) = (Vec::with_capacity(samples), 0);
    // The first put is not counted: it meets whatever is still cold on the way.
    for i in 0..=samples {
        let key = format!("n{i}-{}", uuid::Uuid::new_v4().simple());
        bucket.keys.push(key.clone());
        tokio::time::sleep(NOTIFY_SPACING).await;
        // The clock starts when the request leaves: lambent may start the function before
        // its 200 reaches the client.
        let sent = unix_nanos();
        let reply = call(
            client,
            "PUT",
            &bucket.path(&key),
            "",
            object.data.clone(),
            &object.sha256,
        )
        .await;
        if !matches!(reply, Ok(ref r) if r.status == 200) {
            errors += 1;
            continue;
        }
        let started = logged_start(client, &group, &key, NOTIFY_TIMEOUT).await?;
        if i > 0 {
            out.push(((started - sent) as f64 / 1000.0).max(0.0));
        }
    }
    Ok((out, errors))
}
