#!/usr/bin/env python3
"""Recomputes the test vector of docs/outcome-bundle.md without confer's code, and verifies
bundles with an independent verifier written from that page.

Needs the `cryptography` package. Prints the vector (as the page shows it), then checks the
vector's bundle and a few broken variants of it with `verify` below, and exits non-zero if
any verdict is not the expected one.
"""
import hashlib
import json
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROLES = {1: "member", 2: "staff", 3: "secretary-general", 4: "chair", 5: "vice-chair"}
KINDS = ("resolution", "joint-opinion", "joint-report", "proposal", "supervision-proposal")
HEX = set("0123456789abcdef")


# ---- signing (to make the vector) ------------------------------------------------------

def key(first):
    sk = Ed25519PrivateKey.from_private_bytes(bytes(range(first, first + 32)))
    return sk, sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def text(s):
    b = s.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def certificate(body, signer_sk, body_name, subject_key, subject, issued_at):
    signer = signer_sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    payload = b"\x02" + body + signer + text(body_name) + subject_key
    if subject is None:  # body key
        payload += b"\x03"
    else:
        name, role, can_sign = subject
        payload += b"\x01" + text(name) + bytes([role, int(can_sign)])
    payload += struct.pack(">Q", issued_at)
    return payload + signer_sk.sign(b"confer/certificate/v2\x00" + payload)


def render(space, outcome, kind, bodies, title, body_text):
    body_text = body_text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    header = ["format: confer-outcome", "version: 1", "space: " + space.hex(),
              "outcome: " + outcome.hex(), "kind: " + kind]
    header += ["body: " + b.hex() for b in sorted(bodies)]
    header += ["title: " + title]
    return "\n".join(header) + "\n\n" + body_text


ATTESTATION = b"confer/attestation/v1\x00"


def attest(sk, body, digest):
    return sk.sign(ATTESTATION + body + digest)


# ---- verifying (from the page alone) ---------------------------------------------------

def hidden(c):
    return unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")


def clean_name(s):
    return s != "" and s.strip() == s and not any(hidden(c) for c in s)


def lower_hex(s, n):
    if not isinstance(s, str) or len(s) != 2 * n or not set(s) <= HEX:
        return None
    return bytes.fromhex(s)


def parse_rendering(r):
    """The outcome's bodies, or an exception if `r` is not canonical."""
    if len(r.encode("utf-8")) > 256 * 1024 + 8192:
        raise ValueError("too long")
    header, sep, body_text = r.partition("\n\n")
    if not sep:
        raise ValueError("no blank line")
    lines = header.split("\n")
    fixed = ["format: confer-outcome", "version: 1"]
    if lines[:2] != fixed or len(lines) < 7:
        raise ValueError("header")
    for line, name, n in ((lines[2], "space", 32), (lines[3], "outcome", 8)):
        if not line.startswith(name + ": ") or lower_hex(line[len(name) + 2:], n) is None:
            raise ValueError(name)
    if lines[4][len("kind: "):] not in KINDS or not lines[4].startswith("kind: "):
        raise ValueError("kind")
    bodies = []
    for line in lines[5:-1]:
        b = lower_hex(line[len("body: "):], 32) if line.startswith("body: ") else None
        if b is None or (bodies and bodies[-1] >= b):
            raise ValueError("body lines")
        bodies.append(b)
    title = lines[-1][len("title: "):]
    if not lines[-1].startswith("title: ") or not clean_name(title) or len(title.encode()) > 1024:
        raise ValueError("title")
    if not 1 <= len(bodies) <= 64:
        raise ValueError("body count")
    if (body_text == "" or body_text.rstrip() != body_text or len(body_text.encode()) > 256 * 1024
            or any(hidden(c) and c not in "\n\t" for c in body_text)):
        raise ValueError("text")
    return bodies


def verify_sig(key_bytes, message, signature):
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def decode_certificate(raw):
    def take(n):
        nonlocal at
        if at + n > len(raw):
            raise ValueError("short")
        at += n
        return raw[at - n:at]

    def string():
        s = take(struct.unpack(">I", take(4))[0]).decode("utf-8")
        if len(s.encode()) > 256 or not clean_name(s):
            raise ValueError("name")
        return s

    at = 0
    if take(1) != b"\x02":
        raise ValueError("version")
    body, signer, body_name, subject_key = take(32), take(32), string(), take(32)
    kind = take(1)[0]
    member = None
    if kind == 1:
        name, role, can_sign = string(), take(1)[0], take(1)[0]
        if role not in ROLES or can_sign > 1:
            raise ValueError("member")
        member = (name, ROLES[role], can_sign == 1)
    elif kind not in (2, 3):
        raise ValueError("subject")
    issued_at = struct.unpack(">Q", take(8))[0]
    signature = take(64)
    if at != len(raw) or not verify_sig(signer, b"confer/certificate/v2\x00" + raw[:-64], signature):
        raise ValueError("signature")
    return dict(body=body, signer=signer, body_name=body_name, key=subject_key, kind=kind,
                member=member, issued_at=issued_at, raw=raw)


def verify(data):
    """(valid, adopted, problems) for a bundle file's bytes."""
    problems = []
    def no_repeats(pairs):
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise DuplicateKey()
        return dict(pairs)

    class DuplicateKey(Exception):
        pass

    if len(data) > 4 * 1024 * 1024:
        return False, False, ["too large"]
    try:
        b = json.loads(data.decode("utf-8"), object_pairs_hook=no_repeats)
    except DuplicateKey:
        return False, False, ["malformed: a key given twice"]
    except (UnicodeDecodeError, ValueError) as e:
        return False, False, ["not JSON: %s" % e]
    if not isinstance(b, dict) or b.get("format") != "confer-outcome-bundle":
        return False, False, ["format"]
    if type(b.get("version")) is not int or b["version"] != 1:
        return False, False, ["version"]
    try:
        rendering, atts, certs = b["rendering"], b["attestations"], b["certificates"]
        assert isinstance(rendering, str) and isinstance(atts, list) and isinstance(certs, list)
        assert len(atts) <= 256 and len(certs) <= 1024
        for a in atts:
            assert all(isinstance(a[f], str) for f in ("body", "signer", "signature"))
        assert all(isinstance(c, str) for c in certs)
    except (KeyError, AssertionError, TypeError):
        return False, False, ["malformed"]
    try:
        bodies = parse_rendering(rendering)
    except ValueError as e:
        return False, False, ["rendering: %s" % e]
    digest = hashlib.sha256(rendering.encode("utf-8")).digest()

    decoded = []
    for i, h in enumerate(certs):
        raw = lower_hex(h, len(h) // 2) if len(h) % 2 == 0 else None
        try:
            decoded.append(decode_certificate(raw if raw is not None else b""))
        except (ValueError, UnicodeDecodeError, struct.error):
            problems.append("certificate %d" % i)
    # Body-key certificates first, each once its signer is authorised; then the rest.
    authorised = {c["body"]: {c["body"]} for c in decoded}
    chain = [c for c in decoded if c["kind"] == 3]
    progress = True
    while progress:
        progress = False
        for c in list(chain):
            if c["signer"] in authorised[c["body"]]:
                authorised[c["body"]].add(c["key"])
                chain.remove(c)
                progress = True
    members = {}
    for c in decoded:
        if c["signer"] not in authorised[c["body"]]:
            problems.append("unauthorised certificate")
        elif c["kind"] == 1:
            slot = (c["key"], c["body"])
            held = members.get(slot)
            # Latest issued_at wins; ties: the smaller encoding.
            if held is None or (c["issued_at"], held["raw"]) > (held["issued_at"], c["raw"]):
                members[slot] = c

    signed, seen = set(), set()
    for i, a in enumerate(atts):
        body, signer = lower_hex(a["body"], 32), lower_hex(a["signer"], 32)
        signature = lower_hex(a["signature"], 64)
        if None in (body, signer, signature):
            problems.append("attestation %d encoding" % i)
            continue
        if (body, signer) in seen:
            problems.append("attestation %d duplicate" % i)
            continue
        seen.add((body, signer))
        cert = members.get((signer, body))
        if not verify_sig(signer, ATTESTATION + body + digest, signature):
            problems.append("attestation %d bad signature" % i)
        elif body not in bodies:
            problems.append("attestation %d body not listed" % i)
        elif cert is None:
            problems.append("attestation %d no member certificate" % i)
        elif not cert["member"][2]:
            problems.append("attestation %d cannot sign" % i)
        else:
            signed.add(body)
    valid = not problems
    return valid, valid and signed == set(bodies), problems


# ---- the vector ------------------------------------------------------------------------

def main():
    pinghu_sk, pinghu = key(0x00)
    li_sk, li = key(0x20)
    jinshan_sk, jinshan = key(0x40)
    jinshan_new_sk, jinshan_new = key(0x60)
    wang_sk, wang = key(0xA0)
    li_cert = certificate(pinghu, pinghu_sk, "平湖市政协", li, ("李四", 3, True), 1800000000)
    rotation = certificate(jinshan, jinshan_sk, "金山区政协", jinshan_new, None, 1800000100)
    wang_cert = certificate(jinshan, jinshan_new_sk, "金山区政协", wang, ("王五", 4, True), 1800000200)
    rendering = render(bytes(range(0xC0, 0xE0)), bytes(range(0xE0, 0xE8)), "joint-opinion",
                       [pinghu, jinshan], "关于跨界河道水环境联防联治的联合协商意见",
                       "一、建立跨界河道水质联合监测机制，监测数据按月互通。\r\n"
                       "二、开展联合执法，共同查处跨界违法排污行为。\r\n"
                       "三、新建涉水项目由两地共同参与评审。\r\n")
    digest = hashlib.sha256(rendering.encode("utf-8")).digest()
    sig_li, sig_wang = attest(li_sk, pinghu, digest), attest(wang_sk, jinshan, digest)
    attestations = sorted([(pinghu, li, sig_li), (jinshan, wang, sig_wang)])
    bundle = {
        "format": "confer-outcome-bundle",
        "version": 1,
        "rendering": rendering,
        "attestations": [{"body": b.hex(), "signer": s.hex(), "signature": g.hex()}
                         for b, s, g in attestations],
        # Per attestation, in order: the body's key chain, then the member certificate.
        "certificates": [c.hex() for c in (li_cert, rotation, wang_cert)],
    }
    text_json = json.dumps(bundle, ensure_ascii=False, indent=2)
    for label, value in [
        ("平湖 body id", pinghu.hex()), ("李四's key", li.hex()),
        ("金山 body id", jinshan.hex()), ("金山's new body key", jinshan_new.hex()),
        ("王五's key", wang.hex()),
        ("rendering", "```text\n%s\n```" % rendering), ("digest", digest.hex()),
        ("李四's signed message", (ATTESTATION + pinghu + digest).hex()),
        ("李四's signature", sig_li.hex()),
        ("李四's compact attestation", (b"\x01" + pinghu + li + digest + sig_li).hex()),
        ("王五's signed message", (ATTESTATION + jinshan + digest).hex()),
        ("王五's signature", sig_wang.hex()),
        ("王五's compact attestation", (b"\x01" + jinshan + wang + digest + sig_wang).hex()),
        ("李四's certificate", li_cert.hex()), ("金山's body-key certificate", rotation.hex()),
        ("王五's certificate", wang_cert.hex()), ("bundle", "```json\n%s\n```" % text_json),
    ]:
        print("--- %s:\n%s" % (label, value))

    def variant(change):
        b = json.loads(text_json)
        change(b)
        return json.dumps(b, ensure_ascii=False).encode("utf-8")

    def drop_chain(b):
        b["certificates"].remove(rotation.hex())

    def tamper(b):
        b["rendering"] = b["rendering"].replace("联合执法", "单方执法")

    cases = [
        ("the vector", text_json.encode("utf-8"), (True, True)),
        ("one attestation", variant(lambda b: b["attestations"].pop()), (True, False)),
        ("tampered text", variant(tamper), (False, False)),
        ("chain left out", variant(drop_chain), (False, False)),
        ("repeated attestation",
         variant(lambda b: b["attestations"].append(b["attestations"][0])), (False, False)),
        ("not JSON", b"{", (False, False)),
        ("a key given twice", text_json.replace('"version": 1,', '"version": 1, "version": 1,')
         .encode("utf-8"), (False, False)),
    ]
    failed = 0
    for name, data, expected in cases:
        valid, adopted, problems = verify(data)
        ok = (valid, adopted) == expected
        failed += not ok
        print("verify %-22s valid=%-5s adopted=%-5s %s %s" % (
            name + ":", valid, adopted, "ok" if ok else "WRONG", "; ".join(problems)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
