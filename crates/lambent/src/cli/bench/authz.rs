//! The cost of authorization on the warm path: invokes signed by an IAM user holding ten
//! attached policies (nine that do not apply, one that allows the invoke), against the same
//! invokes signed by the root key, interleaved in one run so both see the same machine.

use super::{invoke, summarize, Summary};
use crate::cli::client::{xml_element, Client};
use std::time::Instant;

/// How many policies the user holds (IAM's quota of attached policies per user).
const POLICIES: usize = 10;

pub async fn warm_user(
    client: &Client,
    function: &str,
    rt: &str,
    n: usize,
) -> anyhow::Result<Vec<Summary>> {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let user = format!("lambent-bench-{suffix}");
    let mut policies = Vec::new();
    let outcome = async {
        client.iam_ok("CreateUser", &[("UserName", &user)]).await?;
        for i in 0..POLICIES {
            let document = if i + 1 == POLICIES {
                format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:{function}"}}]}}"#
                )
            } else {
                // Statements the evaluator must look at and reject.
                format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","logs:*"],"Resource":"arn:aws:s3:::bench-{i}/*"}},{{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*","Condition":{{"StringEquals":{{"aws:RequestedRegion":"eu-west-{i}"}}}}}}]}}"#
                )
            };
            let name = format!("{user}-{i}");
            let created = client
                .iam_ok(
                    "CreatePolicy",
                    &[("PolicyName", &name), ("PolicyDocument", &document)],
                )
                .await?;
            let arn = element(&created, "Arn")?;
            policies.push(arn.clone());
            client
                .iam_ok("AttachUserPolicy", &[("UserName", &user), ("PolicyArn", &arn)])
                .await?;
        }
        let key = client.iam_ok("CreateAccessKey", &[("UserName", &user)]).await?;
        let (id, secret) = (
            element(&key, "AccessKeyId")?,
            element(&key, "SecretAccessKey")?,
        );
        let signed_by_user = client.with_key(&id, &secret);
        invoke(&signed_by_user, function, false).await?;
        invoke(client, function, false).await?;
        let (mut root, mut by_user) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let t = Instant::now();
            invoke(client, function, false).await?;
            root.push(t.elapsed().as_secs_f64() * 1e6);
            let t = Instant::now();
            invoke(&signed_by_user, function, false).await?;
            by_user.push(t.elapsed().as_secs_f64() * 1e6);
        }
        client
            .iam_ok("DeleteAccessKey", &[("UserName", &user), ("AccessKeyId", &id)])
            .await?;
        Ok::<_, anyhow::Error>(vec![
            summarize(format!("warm {rt} (root, beside warm-user)"), root, vec![]),
            summarize(
                format!("warm-user {rt} (IAM user, {POLICIES} policies)"),
                by_user,
                vec![],
            ),
        ])
    }
    .await;
    // Whatever happened, leave no user or policy behind.
    for arn in &policies {
        let _ = client
            .iam_ok(
                "DetachUserPolicy",
                &[("UserName", &user), ("PolicyArn", arn)],
            )
            .await;
        let _ = client.iam_ok("DeletePolicy", &[("PolicyArn", arn)]).await;
    }
    let _ = client.iam_ok("DeleteUser", &[("UserName", &user)]).await;
    outcome
}

/// The text of the first `<name>` element.
fn element(xml: &str, name: &str) -> anyhow::Result<String> {
    xml_element(xml, name).ok_or_else(|| anyhow::anyhow!("no {name} in {xml}"))
}
