"""Thumbnails: for each PNG uploaded under ``uploads/``, write a copy at most 128 pixels on
its longer side under ``thumbnails/`` of the same bucket.

The book does this with Pillow. lambent runs Python functions on the host's interpreters,
which on a fresh machine have no Pillow, so this version reads and writes PNG with the
standard library alone: zlib for the image data, struct for the chunks (boto3 comes with the
runtime, as on AWS: lambent's SDK cache). It reads 8-bit, non-interlaced PNGs (gray, gray
with alpha, RGB, RGBA, and palette, which becomes RGB or RGBA); anything else is logged and
skipped, so a bad upload is not retried forever.

The bucket's notification rule subscribes it to keys under ``uploads/`` only, and it writes
under ``thumbnails/``, so its own writes never invoke it again.
"""
import struct
import urllib.parse
import zlib

import boto3

MAX_SIDE = 128
# As many pixels as a 4K screen: pure Python undoes the row filters of an RGBA image this
# large in about 12 s (the timeout is 30 s), and it fits the function's 256 MB.
MAX_PIXELS = 3840 * 2160
SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG color type -> samples per pixel
COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # samples per pixel -> PNG color type

# No endpoint or credentials here: lambent, like AWS, gives the function its own.
s3 = boto3.client("s3")


class Unsupported(Exception):
    """An upload this function makes no thumbnail of."""


def lambda_handler(event, context):
    made, skipped = [], []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])  # keys arrive URL-encoded
        try:
            if not key.startswith("uploads/"):
                raise Unsupported("not under uploads/")
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            width, height, channels, rows = decode_png(data)
        except (Unsupported, s3.exceptions.NoSuchKey) as e:
            print(f"skipped {key}: {e}")
            skipped.append(key)
            continue
        w, h, small = resize(width, height, channels, rows)
        target = "thumbnails/" + key[len("uploads/"):]
        s3.put_object(Bucket=bucket, Key=target, Body=encode_png(w, h, channels, small),
                      ContentType="image/png")
        print(f"{key} ({width}x{height}) -> {target} ({w}x{h})")
        made.append(target)
    return {"thumbnails": made, "skipped": skipped}


def decode_png(data):
    """(width, height, samples per pixel, rows of bytes) of a PNG, palette expanded."""
    if not data.startswith(SIGNATURE):
        raise Unsupported("not a PNG")
    header, palette, transparency, idat = None, None, b"", []
    pos = len(SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length  # length, type, body, CRC
        if kind == b"IHDR" and len(body) == 13:
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise Unsupported("a PNG without its header")
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in CHANNELS or interlace:
        raise Unsupported(f"bit depth {depth}, color type {color}, interlace {interlace}: "
                          "only 8-bit non-interlaced PNGs are supported")
    if not 0 < width * height <= MAX_PIXELS:
        raise Unsupported(f"{width}x{height} pixels is too large")
    channels = CHANNELS[color]
    stride = width * channels
    try:
        # Inflate no more than the image needs: a small upload cannot claim all memory.
        raw = zlib.decompressobj().decompress(b"".join(idat), height * (stride + 1))
    except zlib.error as e:
        raise Unsupported(f"corrupt image data ({e})")
    if len(raw) < height * (stride + 1):
        raise Unsupported("truncated image data")
    rows = unfilter(raw, height, stride, channels)
    if color == 3:
        rows, channels = expand_palette(rows, palette, transparency)
    return width, height, channels, rows


def unfilter(raw, height, stride, bpp):
    """Undoes the filter each row starts with (PNG spec, section 9)."""
    rows, prev = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub: the byte to the left
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:  # Up: the byte above
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev))
        elif kind == 3:  # Average of left and above
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth: whichever of left, above, upper left is nearest to their sum
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        elif kind != 0:
            raise Unsupported(f"unknown filter type {kind}")
        rows.append(bytes(line))
        prev = line
    return rows


def expand_palette(rows, palette, transparency):
    """Palette indexes to RGB, or to RGBA when the PNG has a tRNS chunk."""
    if not palette:
        raise Unsupported("a palette PNG without its palette")
    colors = [palette[i:i + 3] for i in range(0, len(palette) - 2, 3)]
    if transparency:
        colors = [c + (transparency[i:i + 1] or b"\xff") for i, c in enumerate(colors)]
    try:
        return [b"".join([colors[i] for i in row]) for row in rows], len(colors[0])
    except IndexError:
        raise Unsupported("a pixel names a color the palette lacks")


def resize(width, height, channels, rows):
    """Box filter: each thumbnail pixel is the average of the source pixels it covers.

    The longer side becomes MAX_SIDE (never larger than the source); the shorter keeps the
    aspect ratio, rounded to the nearest pixel, halves up, and is at least 1.
    """
    longer = max(width, height)
    if longer <= MAX_SIDE:
        return width, height, rows
    w = max(1, (width * MAX_SIDE + longer // 2) // longer)
    h = max(1, (height * MAX_SIDE + longer // 2) // longer)
    columns = [(x * width // w, (x + 1) * width // w) for x in range(w)]
    out = []
    for y in range(h):
        y0, y1 = y * height // h, (y + 1) * height // h
        sums = [sum(column) for column in zip(*rows[y0:y1])]  # each sample, summed down
        line = bytearray()
        for x0, x1 in columns:
            n = (x1 - x0) * (y1 - y0)
            for c in range(channels):
                line.append((sum(sums[x0 * channels + c:x1 * channels:channels]) + n // 2) // n)
        out.append(bytes(line))
    return w, h, out


def encode_png(width, height, channels, rows):
    """A PNG of 8-bit rows, each with filter type 0 (none), deflated by zlib."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPE[channels], 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)
    return SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
