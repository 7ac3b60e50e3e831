//! OpenID Connect providers: Create/Get/List/DeleteOpenIDConnectProvider,
//! Add/RemoveClientIDTo/FromOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint.
//! A provider's URL is `https://` as on AWS, or, for identity providers on this machine,
//! `http://` to a loopback host (lambent fetches signing keys from it; see `sts/web_identity.rs`).

use super::xml::Xml;
use super::{Call, IamApiError, Outcome};
use lambent_store::iam::OidcProvider;

/// Whether lambent accepts `url` as a provider's: `https://HOST[/PATH]`, or `http://` to a
/// loopback host, without query or fragment.
pub fn valid_url(url: &str) -> bool {
    let rest = match url.split_once("://") {
        Some(("https", rest)) => rest,
        Some(("http", rest)) => {
            let host = rest.split(['/', ':']).next().unwrap_or("");
            let host = if rest.starts_with('[') {
                rest.split(']').next().map_or("", |h| &h[1..])
            } else {
                host
            };
            if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
                return false;
            }
            rest
        }
        _ => return false,
    };
    !rest.is_empty() && url.len() <= 255 && !rest.contains(['?', '#', ' '])
}

fn url<'a>(call: &'a Call<'_>) -> Result<&'a str, IamApiError> {
    let url = call.query.required("Url")?;
    if !valid_url(url) {
        return Err(IamApiError::validation(format!(
            "1 validation error detected: Value '{url}' at 'url' failed to satisfy constraint: \
             Member must be an https:// URL (lambent also takes http:// to a loopback host)"
        )));
    }
    Ok(url)
}

fn client_id(id: &str) -> Result<(), IamApiError> {
    if id.is_empty() || id.chars().count() > 255 {
        return Err(IamApiError::validation(format!(
            "1 validation error detected: Value '{id}' at 'clientID' failed to satisfy \
             constraint: Member must have length between 1 and 255"
        )));
    }
    Ok(())
}

fn thumbprints(call: &Call<'_>, member: &str) -> Result<Vec<String>, IamApiError> {
    let list = call.query.list(member)?;
    for t in &list {
        if t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IamApiError::validation(format!(
                "1 validation error detected: Value '{t}' at 'thumbprintList' failed to \
                 satisfy constraint: Member must have length 40 (hexadecimal)"
            )));
        }
    }
    Ok(list)
}

fn arn<'a>(call: &'a Call<'_>) -> Result<&'a str, IamApiError> {
    let arn = call.query.required("OpenIDConnectProviderArn")?;
    if !arn.starts_with("arn:aws:iam::") || !arn.contains(":oidc-provider/") {
        return Err(IamApiError::invalid_input(format!(
            "ARN {arn} is not valid."
        )));
    }
    Ok(arn)
}

pub fn create(call: &Call<'_>) -> Outcome {
    let url = url(call)?;
    let ids = call.query.list("ClientIDList")?;
    for id in &ids {
        client_id(id)?;
    }
    let prints = thumbprints(call, "ThumbprintList")?;
    let provider = call.store.create_oidc_provider(url, &ids, &prints)?;
    let mut x = Xml::new();
    x.text("OpenIDConnectProviderArn", &provider.arn);
    Ok(Some(x))
}

fn provider_xml(x: &mut Xml, p: &OidcProvider) {
    x.text("Url", lambent_store::iam::provider_host(&p.url));
    x.members("ClientIDList", &p.client_ids, |x, id| {
        x.buf_mut().push_str(&escaped(id));
    });
    x.members("ThumbprintList", &p.thumbprints, |x, t| {
        x.buf_mut().push_str(&escaped(t));
    });
    x.time("CreateDate", p.created);
}

fn escaped(text: &str) -> String {
    let mut out = String::new();
    super::xml::escape(text, &mut out);
    out
}

pub fn get(call: &Call<'_>) -> Outcome {
    let provider = call.store.oidc_provider(arn(call)?)?;
    let mut x = Xml::new();
    provider_xml(&mut x, &provider);
    Ok(Some(x))
}

pub fn list(call: &Call<'_>) -> Outcome {
    let providers = call.store.list_oidc_providers()?;
    let mut x = Xml::new();
    x.members("OpenIDConnectProviderList", &providers, |x, p| {
        x.text("Arn", &p.arn);
    });
    Ok(Some(x))
}

pub fn delete(call: &Call<'_>) -> Outcome {
    call.store.delete_oidc_provider(arn(call)?)?;
    Ok(None)
}

pub fn add_client_id(call: &Call<'_>) -> Outcome {
    let id = call.query.required("ClientID")?.to_string();
    client_id(&id)?;
    call.store.update_oidc_provider(arn(call)?, |p| {
        if !p.client_ids.contains(&id) {
            p.client_ids.push(id);
        }
    })?;
    Ok(None)
}

pub fn remove_client_id(call: &Call<'_>) -> Outcome {
    let id = call.query.required("ClientID")?.to_string();
    client_id(&id)?;
    call.store
        .update_oidc_provider(arn(call)?, |p| p.client_ids.retain(|c| *c != id))?;
    Ok(None)
}

pub fn update_thumbprint(call: &Call<'_>) -> Outcome {
    let prints = thumbprints(call, "ThumbprintList")?;
    call.store
        .update_oidc_provider(arn(call)?, |p| p.thumbprints = prints)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::valid_url;

    #[test]
    fn provider_urls_are_https_or_http_to_this_machine() {
        for ok in [
            "https://issuer.example.com",
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc",
            "http://127.0.0.1:8080/realm",
            "http://localhost:1",
            "http://[::1]:9/x",
        ] {
            assert!(valid_url(ok), "{ok}");
        }
        for bad in [
            "http://issuer.example.com",
            "http://127.0.0.1.evil.com",
            "ftp://x",
            "https://",
            "https://x?y=1",
            "issuer.example.com",
        ] {
            assert!(!valid_url(bad), "{bad}");
        }
    }
}
