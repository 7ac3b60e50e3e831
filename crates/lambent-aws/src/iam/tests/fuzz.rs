//! A seeded mutation test: valid documents with bytes flipped, cut, nested, repeated and
//! padded must parse or fail without panicking, evaluate without panicking, and a document
//! that failed to parse contributes nothing (the request stays denied).

use super::*;

const CORPUS: &[&str] = &[
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/home/${aws:username}/*"],"Condition":{"StringLike":{"s3:prefix":["","home/${aws:username, 'x'}/*"]},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::*:user/*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":false},"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:sts::111122223333:assumed-role/app/s1"],"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:111122223333:function:f","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b*"},"NumericLessThan":{"n":10},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"Null":{"x":"true"}}}]}"#,
    r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"e"},"BinaryEquals":{"k":"QQ=="}}}]}"#,
];

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const NOISE: &[u8] = b"{}[]\":,*?$\\ 0aZ/\x00\xff\xc3";

fn mutate(rng: &mut XorShift, doc: &str) -> String {
    let mut b = doc.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let len = b.len();
        match rng.below(7) {
            0 => {
                let i = rng.below(len);
                if let Some(x) = b.get_mut(i) {
                    *x = NOISE[rng.below(NOISE.len())];
                }
            }
            1 => b.truncate(rng.below(len + 1)),
            2 => {
                let (i, n) = (rng.below(len), rng.below(40));
                let end = (i + n).min(len);
                b.drain(i..end);
            }
            3 => {
                let depth = 1 + rng.below(200);
                let i = rng.below(len + 1);
                let nest: Vec<u8> = std::iter::repeat_n(b'[', depth)
                    .chain(std::iter::repeat_n(b']', depth))
                    .collect();
                b.splice(i..i, nest);
            }
            4 => {
                let (i, n) = (rng.below(len), rng.below(60));
                let end = (i + n).min(len);
                let chunk = b[i..end].to_vec();
                b.splice(i..i, chunk);
            }
            5 => {
                let huge = format!("[{}\"*\"]", "\"s3:*\",".repeat(rng.below(2000)));
                let i = rng.below(len + 1);
                b.splice(i..i, huge.into_bytes());
            }
            _ => {
                let i = rng.below(len + 1);
                b.insert(i.min(b.len()), NOISE[rng.below(NOISE.len())]);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_documents_never_panic_and_never_allow_when_refused() {
    let started = std::time::Instant::now();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let kinds = [Id, Rp, Tp, Pb, Sp];
    let principals = [alice(), session(), anonymous(), service("s3.amazonaws.com")];
    let mut context = Context::new();
    context
        .insert("aws:SourceIp", "203.0.113.9")
        .insert("s3:prefix", "home/alice/x")
        .insert("aws:CurrentTime", "2024-01-01T00:00:00Z")
        .insert_many("aws:TagKeys", &["a", "b"]);
    let (mut parsed, mut refused) = (0, 0);
    for round in 0..3000 {
        let doc = mutate(&mut rng, CORPUS[round % CORPUS.len()]);
        let kind = kinds[rng.below(kinds.len())];
        let principal = &principals[rng.below(principals.len())];
        let req = Request {
            principal,
            action: ["s3:GetObject", "lambda:InvokeFunction", "sts:AssumeRole"][rng.below(3)],
            resource: "arn:aws:s3:::bucket/home/alice/x",
            resource_account: None,
            context: &context,
        };
        let limit = if round % 2 == 0 {
            SizeLimit::Managed
        } else {
            SizeLimit::None
        };
        match Policy::parse(&doc, kind, &limit) {
            Ok(policy) => {
                parsed += 1;
                let source = Source {
                    id: "p",
                    policy: &policy,
                };
                let mut set = PolicySet::default();
                match kind {
                    Id => set.identity.push(source),
                    Rp | Tp => set.resource = Some(source),
                    Pb => set.boundary = Some(source),
                    Sp => set.session.push(source),
                }
                let d = evaluate(&set, &req);
                let _ = d.denial_message(&req, round % 2 == 0);
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty());
                // The refused document is not a policy: nothing allows the request.
                assert!(!evaluate(&PolicySet::default(), &req).is_allowed());
            }
        }
    }
    assert!(
        parsed > 50 && refused > 1000,
        "parsed {parsed}, refused {refused}"
    );
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}
