//! A `provided` runtime that answers every invocation with `{}`: the noop custom runtime
//! `lambent bench` deploys. Standard library only, so it stays small and starts fast, and so
//! `build.rs` can compile it with a bare `rustc` and the bench can carry it inside `lambent`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Reads a response head; returns the request id header (if any) and the body length.
fn read_head(reader: &mut impl BufRead) -> io::Result<(Option<String>, usize)> {
    let mut request_id = None;
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "runtime API closed",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok((request_id, length));
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                request_id = Some(v.to_string());
            }
        }
    }
}

fn skip(reader: &mut impl Read, mut n: usize) -> io::Result<()> {
    let mut buf = [0u8; 8192];
    while n > 0 {
        let want = n.min(buf.len());
        let got = reader.read(&mut buf[..want])?;
        if got == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short body"));
        }
        n -= got;
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| io::Error::other("AWS_LAMBDA_RUNTIME_API is not set"))?;
    let stream = TcpStream::connect(&api)?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n");
    loop {
        writer.write_all(next.as_bytes())?;
        let (id, len) = read_head(&mut reader)?;
        skip(&mut reader, len)?;
        let id = id.ok_or_else(|| io::Error::other("no request id"))?;
        let answer = format!(
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {api}\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        writer.write_all(answer.as_bytes())?;
        let (_, len) = read_head(&mut reader)?;
        skip(&mut reader, len)?;
    }
}
