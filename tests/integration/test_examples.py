"""The thumbnails example of `lambent up --examples`, as the README walks through it: a PNG
copied with `aws s3 cp` under `uploads/` of the bucket `lambent-examples` invokes the
`thumbnails` function, which writes a copy at most 128 pixels on its longer side under
`thumbnails/`. PNGs are written and read here with the standard library, as the function
does; the function's own PNG code is checked through what it writes: every color type, all
five row filters, palettes with transparency, and what it must skip.

Thumbnail size rule (the function's docstring): the longer side becomes 128 (never
upscaled); the shorter is `short * 128 / long` rounded to the nearest pixel, halves up.
"""

import os
import random
import struct
import subprocess
import time
import zlib

from botocore.exceptions import ClientError

from conftest import LAMBENT
from test_async import wait_for
from test_s3 import s3_client

BUCKET = "lambent-examples"
SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def predictor(kind, a, b, c):
    """The value PNG filter `kind` predicts from left `a`, above `b`, upper left `c`."""
    if kind == 0:
        return 0
    if kind == 1:
        return a
    if kind == 2:
        return b
    if kind == 3:
        return (a + b) // 2
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def encode(width, height, color, pixel, filters=(0,), depth=8, interlace=0, extra=b""):
    """A PNG whose pixel (x, y) is the tuple of bytes `pixel(x, y)`; row y uses filter
    `filters[y % len(filters)]`. `extra` goes between IHDR and IDAT (PLTE, tRNS)."""
    bpp = (1 if color == 3 else CHANNELS[color]) * depth // 8
    prev = bytes(width * bpp)
    raw = bytearray()
    for y in range(height):
        line = bytes(v for x in range(width) for v in pixel(x, y))
        kind = filters[y % len(filters)]
        raw.append(kind)
        for i, v in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            c = prev[i - bpp] if i >= bpp else 0
            raw.append((v - predictor(kind, a, prev[i], c)) & 0xFF)
        prev = line
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    return (SIGNATURE + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(bytes(raw)))
            + chunk(b"IEND", b""))


def decode(data):
    """(width, height, color type, rows of pixel tuples) of a thumbnail, checking that it is
    a well-formed PNG: signature, chunk CRCs, 8 bits, filter 0 on every row, no trailing data."""
    assert data.startswith(SIGNATURE), data[:16]
    pos, chunks = len(SIGNATURE), []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind}"
        chunks.append((kind, body))
        pos += 12 + length
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, interlace) == (8, 0)
    n = CHANNELS[color]
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    stride = width * n
    assert len(raw) == height * (stride + 1)
    rows = []
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        assert line[0] == 0, "the function writes filter 0 on every row"
        rows.append([tuple(line[1 + x * n:1 + (x + 1) * n]) for x in range(width)])
    return width, height, color, rows


def thumbnail_size(width, height):
    longer = max(width, height)
    if longer <= 128:
        return width, height
    return ((width * 128 + longer // 2) // longer, (height * 128 + longer // 2) // longer)


def close(got, want, tolerance):
    return len(got) == len(want) and all(abs(g - w) <= tolerance for g, w in zip(got, want))


def fetch(s3, key, timeout=30):
    """The object at `key` of the examples' bucket, waiting for it to appear."""
    def get():
        try:
            return s3.get_object(Bucket=BUCKET, Key=key)
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise
    return wait_for(get, timeout=timeout, interval=0.2)


def upload(server, tmp_path, key, data):
    path = tmp_path / os.path.basename(key)
    path.write_bytes(data)
    server.aws("s3", "cp", str(path), f"s3://{BUCKET}/{key}")


def logs(server):
    """`lambent logs thumbnails`, as the README runs it."""
    out = subprocess.run(
        [LAMBENT, "logs", "thumbnails", "--data-dir", server.data_dir,
         "--endpoint", server.endpoint],
        capture_output=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.decode().splitlines()


def starts(server):
    return sum(1 for line in logs(server) if line.startswith("START RequestId:"))


def gradient(x, y):
    return (x * 255 // 299, y * 255 // 199, 128)


def test_readme_walkthrough_makes_a_thumbnail(fresh_server, tmp_path):
    s = fresh_server("--examples")
    s3 = s3_client(s)
    # 300x200 RGB gradient, its rows cycling through all five filters.
    upload(s, tmp_path, "uploads/photo.png",
           encode(300, 200, 2, gradient, filters=(0, 1, 2, 3, 4)))

    got = fetch(s3, "thumbnails/photo.png")
    assert got["ContentType"] == "image/png"
    width, height, color, rows = decode(got["Body"].read())
    assert (width, height) == thumbnail_size(300, 200) == (128, 85)
    assert color == 2
    corners = {(0, 0): (0, 0), (127, 0): (299, 0), (0, 84): (0, 199), (127, 84): (299, 199)}
    for (tx, ty), (sx, sy) in corners.items():
        assert close(rows[ty][tx], gradient(sx, sy), 4), (tx, ty, rows[ty][tx])
    assert close(rows[42][64], gradient(150, 100), 4), rows[42][64]

    listed = s.aws("s3", "ls", f"s3://{BUCKET}/thumbnails/").stdout.decode()
    assert "photo.png" in listed
    made = "uploads/photo.png (300x200) -> thumbnails/photo.png (128x85)"
    wait_for(lambda: any(made in line for line in logs(s)))
    time.sleep(2)  # a write under thumbnails/ that invoked the function would have run by now
    assert starts(s) == 1


def test_the_examples_role_allows_logs_and_the_thumbnails_prefixes_only(fresh_server):
    s = fresh_server("--examples")
    lam, iam = s.client("lambda"), s.client("iam")
    role = lam.get_function_configuration(FunctionName="thumbnails")["Role"]
    assert role == "arn:aws:iam::000000000000:role/lambent-examples"
    attached = iam.list_attached_role_policies(RoleName="lambent-examples")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AWSLambdaBasicExecutionRole"]
    arn = role
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[f"arn:aws:s3:::{BUCKET}/uploads/a.png", f"arn:aws:s3:::{BUCKET}/thumbnails/a.png",
                      "arn:aws:s3:::other/a.png"],
    )["EvaluationResults"]
    allowed = sorted(
        (r["EvalActionName"], r["EvalResourceName"])
        for r in results if r["EvalDecision"] == "allowed"
    )
    assert allowed == [("s3:GetObject", f"arn:aws:s3:::{BUCKET}/uploads/a.png"),
                       ("s3:PutObject", f"arn:aws:s3:::{BUCKET}/thumbnails/a.png")], results
    decisions = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["lambda:ListFunctions", "logs:PutLogEvents"]
    )["EvaluationResults"]
    assert {r["EvalActionName"]: r["EvalDecision"] for r in decisions} == {
        "lambda:ListFunctions": "implicitDeny", "logs:PutLogEvents": "allowed"}


def test_every_color_type_and_filter(fresh_server, tmp_path):
    s = fresh_server("--examples")
    s3 = s3_client(s)
    rng = random.Random(7)
    noise = [[tuple(rng.randrange(256) for _ in range(3)) for _ in range(100)] for _ in range(60)]

    # Small images are copied unchanged, so these check decoding exactly: random RGB bytes
    # through all five filters, gray with Sub, gray and alpha with Average.
    small = {
        "uploads/noise.png": (encode(100, 60, 2, lambda x, y: noise[y][x],
                                     filters=(4, 3, 2, 1, 0)), 2, lambda x, y: noise[y][x]),
        "uploads/gray.png": (encode(40, 30, 0, lambda x, y: ((x * 7 + y * 3) % 256,),
                                    filters=(1,)), 0, lambda x, y: ((x * 7 + y * 3) % 256,)),
        "uploads/gray-alpha.png": (encode(33, 17, 4, lambda x, y: (x * 7, 255 - y * 9),
                                          filters=(3,)), 4, lambda x, y: (x * 7, 255 - y * 9)),
    }
    for key, (data, _, _) in small.items():
        upload(s, tmp_path, key, data)

    # A palette image with transparency, 2x2 blocks of one color: halved exactly, as RGBA.
    palette = bytes([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    alphas = bytes([255, 128, 0])  # the fourth color has no entry: opaque
    extra = chunk(b"PLTE", palette) + chunk(b"tRNS", alphas)
    upload(s, tmp_path, "uploads/palette.png",
           encode(256, 160, 3, lambda x, y: ((x // 2 + y // 2) % 4,), filters=(2, 1), extra=extra))

    # RGBA, portrait, Paeth on every row, and a key with a space (URL-encoded in the event).
    def rgba(x, y):
        return (x * 255 // 199, y * 255 // 299, 200, 255 - y * 255 // 299)
    upload(s, tmp_path, "uploads/a b.png", encode(200, 300, 6, rgba, filters=(4,)))

    for key, (_, color, pixel) in small.items():
        got = decode(fetch(s3, key.replace("uploads/", "thumbnails/"))["Body"].read())
        width, height = got[0], got[1]
        assert got[2] == color, key
        assert got[3] == [[pixel(x, y) for x in range(width)] for y in range(height)], key

    width, height, color, rows = decode(fetch(s3, "thumbnails/palette.png")["Body"].read())
    assert (width, height, color) == (128, 80, 6)
    colors = [tuple(palette[i:i + 3]) + (a,) for i, a in zip(range(0, 12, 3), (255, 128, 0, 255))]
    assert rows == [[colors[(x + y) % 4] for x in range(128)] for y in range(80)]

    width, height, color, rows = decode(fetch(s3, "thumbnails/a b.png")["Body"].read())
    assert (width, height) == thumbnail_size(200, 300) == (85, 128)
    assert color == 6
    for (tx, ty), (sx, sy) in {(0, 0): (0, 0), (84, 127): (199, 299)}.items():
        assert close(rows[ty][tx], rgba(sx, sy), 4), (tx, ty, rows[ty][tx])
    time.sleep(2)
    assert starts(s) == 5


def test_what_is_not_a_supported_png_is_skipped_and_nothing_retriggers(fresh_server, tmp_path):
    s = fresh_server("--examples")
    s3 = s3_client(s)
    sixteen_bit = encode(10, 10, 0, lambda x, y: (0, 0), depth=16)
    interlaced = encode(10, 10, 2, lambda x, y: (1, 2, 3), interlace=1)
    skipped = {
        "uploads/notes.txt": (b"not an image\n", "not a PNG"),
        "uploads/deep.png": (sixteen_bit, "bit depth 16"),
        "uploads/interlaced.png": (interlaced, "interlace 1"),
        "uploads/truncated.png": (encode(50, 50, 2, gradient)[:60], "truncated"),
    }
    for key, (data, _) in skipped.items():
        upload(s, tmp_path, key, data)
    # Written directly under thumbnails/: outside the rule, so it invokes nothing.
    s3.put_object(Bucket=BUCKET, Key="thumbnails/by-hand.png", Body=encode(5, 5, 0, lambda x, y: (9,)))

    for key, (_, reason) in skipped.items():
        line = wait_for(lambda: [l for l in logs(s) if l.startswith(f"skipped {key}: ")])[0]
        assert reason in line, line
    time.sleep(2)
    lines = logs(s)
    assert starts(s) == len(skipped)
    assert not [l for l in lines if "Traceback" in l or "[ERROR]" in l], lines
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="thumbnails/")["Contents"])
    assert keys == ["thumbnails/by-hand.png"]


def test_examples_bucket_subscription_and_user_changes_kept(fresh_server):
    s = fresh_server("--examples")
    s3, lam = s3_client(s), s.client("lambda")
    config = lam.get_function_configuration(FunctionName="thumbnails")
    assert (config["Runtime"], config["Timeout"], config["MemorySize"]) == ("python3.12", 30, 256)
    got = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    [rule] = got["LambdaFunctionConfigurations"]
    assert rule["LambdaFunctionArn"] == config["FunctionArn"]
    assert rule["Events"] == ["s3:ObjectCreated:*"]
    assert rule["Filter"]["Key"]["FilterRules"] == [{"Name": "Prefix", "Value": "uploads/"}]

    # The user turns the subscription off; starting again with --examples keeps it off.
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={})
    s.stop()
    s.start()
    s3 = s3_client(s)
    got = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    assert "LambdaFunctionConfigurations" not in got
