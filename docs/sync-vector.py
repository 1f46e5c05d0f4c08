#!/usr/bin/env python3
"""Decodes and checks the test vectors of docs/sync-protocol.md without confer's code.

A reader written from that page alone: it reads every vector block of the page, decodes
each object and message by the layouts of sections 2 to 4, checks every signature (with
its domain), every hash and id the page states (BLAKE3, implemented below, and SHA-256),
the change chunk's checksum, the tips, and that every object a message carries is the
object of its own block. Needs the `cryptography` package. Exits non-zero on the first
disagreement; prints one line per block checked.

    python3 docs/sync-vector.py [docs/sync-protocol.md]
"""
import hashlib
import re
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# ---- BLAKE3 (https://github.com/BLAKE3-team/BLAKE3-specs), hash mode, 32-byte output ----

IV = [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19]
PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
CHUNK_START, CHUNK_END, PARENT, ROOT = 1, 2, 4, 8
M32 = 0xFFFFFFFF


def _rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & M32


def _g(s, a, b, c, d, x, y):
    s[a] = (s[a] + s[b] + x) & M32
    s[d] = _rotr(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & M32
    s[b] = _rotr(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b] + y) & M32
    s[d] = _rotr(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & M32
    s[b] = _rotr(s[b] ^ s[c], 7)


def _compress(cv, block, counter, block_len, flags):
    m = list(struct.unpack("<16I", block))
    s = cv[:] + IV[:4] + [counter & M32, (counter >> 32) & M32, block_len, flags]
    for r in range(7):
        _g(s, 0, 4, 8, 12, m[0], m[1])
        _g(s, 1, 5, 9, 13, m[2], m[3])
        _g(s, 2, 6, 10, 14, m[4], m[5])
        _g(s, 3, 7, 11, 15, m[6], m[7])
        _g(s, 0, 5, 10, 15, m[8], m[9])
        _g(s, 1, 6, 11, 12, m[10], m[11])
        _g(s, 2, 7, 8, 13, m[12], m[13])
        _g(s, 3, 4, 9, 14, m[14], m[15])
        if r < 6:
            m = [m[i] for i in PERMUTATION]
    return [s[i] ^ s[i + 8] for i in range(8)]


def _chunk_cv(chunk, counter, root):
    blocks = [chunk[i:i + 64] for i in range(0, len(chunk), 64)] or [b""]
    cv = IV[:]
    for i, block in enumerate(blocks):
        flags = (CHUNK_START if i == 0 else 0) | (CHUNK_END if i == len(blocks) - 1 else 0)
        if root and i == len(blocks) - 1:
            flags |= ROOT
        cv = _compress(cv, block.ljust(64, b"\0"), counter, len(block), flags)
    return cv


def _tree(chunks, first, root):
    if len(chunks) == 1:
        return _chunk_cv(chunks[0], first, root)
    left = 1 << ((len(chunks) - 1).bit_length() - 1)
    block = struct.pack("<8I", *_tree(chunks[:left], first, False)) + struct.pack(
        "<8I", *_tree(chunks[left:], first + left, False))
    return _compress(IV[:], block, 0, 64, PARENT | (ROOT if root else 0))


def blake3(data):
    chunks = [data[i:i + 1024] for i in range(0, len(data), 1024)] or [b""]
    return struct.pack("<8I", *_tree(chunks, 0, True))


assert blake3(b"").hex() == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"

# ---- the page ------------------------------------------------------------------------


def fail(what):
    sys.exit(f"FAIL: {what}")


def check(ok, what):
    if not ok:
        fail(what)


def public(first):
    sk = Ed25519PrivateKey.from_private_bytes(bytes(range(first, first + 32)))
    return sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify(key, domain, payload, signature, what):
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, domain + b"\0" + payload)
    except Exception:
        fail(f"{what}: signature does not verify")


class Reader:
    """Section 2: big-endian integers, u32-prefixed strings, no trailing bytes."""

    def __init__(self, data, what):
        self.data, self.pos, self.what = data, 0, what

    def raw(self, n):
        check(self.pos + n <= len(self.data), f"{self.what}: ends early")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self):
        return self.raw(1)[0]

    def u32(self):
        return struct.unpack(">I", self.raw(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.raw(8))[0]

    def flag(self):
        v = self.u8()
        check(v in (0, 1), f"{self.what}: flag is not 0 or 1")
        return v == 1

    def bytes(self, limit):
        n = self.u32()
        check(n <= limit, f"{self.what}: {n} bytes over the limit {limit}")
        return self.raw(n)

    def count(self, limit):
        n = self.u32()
        check(n <= limit, f"{self.what}: count {n} over the limit {limit}")
        return n

    def done(self):
        check(self.pos == len(self.data), f"{self.what}: trailing bytes")


CERT_DOMAIN = b"confer/certificate/v2"
ROLES = {1: "member", 2: "staff", 3: "secretary-general", 4: "chair", 5: "vice-chair"}


def certificate(data):
    """Section 3.2."""
    r = Reader(data, "certificate")
    check(r.u8() == 2, "certificate version")
    c = {"body": r.raw(32), "signer": r.raw(32), "body_name": r.bytes(256).decode()}
    c["key"] = r.raw(32)
    subject = r.u8()
    c["subject"] = {1: "member", 2: "node", 3: "body key"}[subject]
    if subject == 1:
        c["name"] = r.bytes(256).decode()
        c["role"] = ROLES[r.u8()]
        c["can_sign"] = r.flag()
    c["issued_at"] = r.u64()
    signature = r.raw(64)
    r.done()
    verify(c["signer"], CERT_DOMAIN, data[:-64], signature, "certificate")
    return c


def genesis(data):
    """Section 3.3."""
    r = Reader(data, "genesis")
    check(r.u8() == 1, "genesis version")
    g = {"kind": {1: "agenda", 2: "ledger"}[r.u8()]}
    n = r.count(64)
    g["members"] = [r.raw(32) for _ in range(n)]
    check(n >= 1 and g["members"] == sorted(set(g["members"])), "members sorted, unique")
    g["created_at"] = r.u64()
    g["nonce"] = r.raw(16)
    g["creator"] = certificate(r.bytes(692))
    signature = r.raw(64)
    r.done()
    check(g["creator"]["subject"] == "member", "creator is a member certificate")
    check(g["creator"]["body"] in g["members"], "creator's body is a member")
    verify(g["creator"]["key"], b"confer/genesis/v1", data[:-64], signature, "genesis")
    g["id"] = blake3(data)
    return g


def leb(r):
    """An unsigned LEB128 number (automerge's change chunk)."""
    out, shift = 0, 0
    while True:
        b = r.u8()
        out |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return out


def change_chunk(chunk):
    """Section 3.5, the parts a reader needs: magic, checksum, type, length, deps, actor."""
    check(chunk[:4] == bytes.fromhex("856f4a83"), "chunk magic")
    check(hashlib.sha256(chunk[8:]).digest()[:4] == chunk[4:8], "chunk checksum")
    r = Reader(chunk, "change chunk")
    r.raw(8)
    check(r.u8() == 1, "an uncompressed change chunk")
    check(leb(r) == len(chunk) - r.pos, "chunk length")
    deps = [r.raw(32) for _ in range(leb(r))]
    actor = r.raw(leb(r))
    seq = leb(r)
    check(len(actor) == 32 and seq >= 1, "actor is a key, seq >= 1")
    return {"deps": deps, "actor": actor, "seq": seq, "hash": hashlib.sha256(chunk[8:]).digest()}


def entry(data):
    """Section 3.4."""
    r = Reader(data, "entry")
    check(r.u8() == 2, "entry version")
    e = {"space": r.raw(32), "body": r.raw(32)}
    chunk = r.bytes(1024 * 1024)
    signature = r.raw(64)
    r.done()
    e.update(change_chunk(chunk))
    verify(e["actor"], b"confer/entry/v2", e["space"] + e["body"] + chunk, signature, "entry")
    e["entry_hash"] = blake3(data)
    return e


def revocation(data):
    """Section 3.7."""
    r = Reader(data, "revocation")
    check(r.u8() == 1, "revocation version")
    v = {"body": r.raw(32), "signer": r.raw(32), "key": r.raw(32), "issued_at": r.u64()}
    scope, space, seq = r.u8(), r.raw(32), r.u64()
    v["scope"] = {1: "space", 2: "later", 3: "fork"}[scope]
    v["space"], v["seq"] = space, seq
    if scope == 2:
        check(space == bytes(32) and seq == 0, "a later revocation names no space")
    if scope == 3:
        check(seq >= 1, "a fork at seq >= 1")
        v["stands"] = r.raw(32)
    signature = r.raw(64)
    r.done()
    verify(v["signer"], b"confer/revocation/v1", data[:-64], signature, "revocation")
    return v


def change(r):
    """Section 3.8, the change (read from a consent or on its own)."""
    start = r.pos
    check(r.u8() == 1, "change version")
    c = {"space": r.raw(32), "prev": r.raw(32), "op": r.u8(), "target": r.raw(32)}
    c["cutoffs"] = [(r.raw(32), r.u64()) for _ in range(r.count(1024))]
    check(c["op"] == 2 or not c["cutoffs"], "cutoffs only in a removal")
    c["issued_at"] = r.u64()
    c["bytes"] = r.data[start:r.pos]
    c["id"] = blake3(c["bytes"])
    c["state_after"] = blake3(b"confer/membership-state/v1" + c["prev"] + bytes([c["op"]]) + c["target"])
    return c


def consent(data):
    r = Reader(data, "consent")
    m = change(r)
    cert = certificate(r.bytes(692))
    signature = r.raw(64)
    r.done()
    check(cert["subject"] == "member" and cert["can_sign"], "consent signer may sign")
    verify(cert["key"], b"confer/membership-consent/v1", m["bytes"], signature, "consent")
    return {"change": m, "cert": cert}


def vector(r, with_tips):
    """Section 3.6."""
    authors = [(r.raw(32), r.u64()) for _ in range(r.count(100_000))]
    check([a for a, _ in authors] == sorted({a for a, _ in authors}), "vector sorted")
    tips = [r.raw(16) for _ in authors] if with_tips else []
    return authors, tips


def items(r, limit, item_limit):
    return [r.bytes(item_limit) for _ in range(r.count(limit))]


def opt_genesis(r, space):
    if not r.flag():
        return None
    g = r.bytes(64 * 1024)
    check(genesis(g)["id"] == space, "the genesis hashes to the message's space id")
    return g


def message(data):
    """Section 4: every message type, its fields in order, nothing after."""
    r = Reader(data, "message")
    check(r.u8() == 1, "message version")
    t = r.u8()
    m = {"type": t}
    if t in (1, 2):
        m["node"] = r.bytes(692)
        m["chain"] = items(r, 8, 692)
        check(all(certificate(c)["subject"] == "body key" for c in m["chain"]), "chain")
    elif t in (3, 4, 5, 6, 8, 9):
        m["space"] = r.raw(32)
        if t in (3, 5, 9):
            m["genesis"] = opt_genesis(r, m["space"])
        if t in (3, 4, 6):
            m["vector"], m["tips"] = vector(r, t != 6)
        if t in (4, 5):
            m["certs"] = items(r, 1024, 692)
            m["entries"] = items(r, 16_384, 1024 * 1024 + 133)
            for c in m["certs"]:
                certificate(c)
            for e in m["entries"]:
                entry(e)
        if t == 4:
            m["more"] = r.flag()
        if t == 8:
            m["revocations"] = items(r, 1024, 242)
        if t == 9:
            m["consents"] = items(r, 256, 41_830)
    elif t == 7:
        m["space"] = r.raw(32) if r.flag() else None
        m["reason"] = r.u8()
        check(1 <= m["reason"] <= 6, "refusal reason")
        m["detail"] = r.bytes(1024).decode()
    elif t == 10:
        m["revocations"] = items(r, 1024, 242)
        check(all(revocation(v)["scope"] == "later" for v in m["revocations"]), "scope later")
    else:
        fail(f"unknown message type {t}")
    r.done()
    for v in m.get("revocations", []):
        revocation(v)
    for c in m.get("consents", []):
        consent(c)
    return m


def blocks(page):
    out = {}
    for name, body in re.findall(r"```text\n# (.*?)\n(.*?)```", page, re.S):
        out[name.split(":")[0]] = b"".join(bytes.fromhex(line.split()[0]) for line in body.splitlines())
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/sync-protocol.md"
    page = open(path, encoding="utf-8").read()
    stated = set(re.findall(r"`([0-9a-f]{32,64})`", page))
    b = blocks(page)
    keys = {n: public(first) for n, first in
            [("A", 0x00), ("member", 0x20), ("nodeA", 0x40), ("B", 0x60), ("nodeB", 0x80),
             ("A2", 0xa0), ("C", 0xc0), ("stolen", 0xe0)]}
    for k in keys.values():
        check(k.hex() in stated, f"public key {k.hex()} is in the page's table")

    c1, c2, c3, c4 = (certificate(b[n]) for n in ("C1", "C2", "C3", "C4"))
    check((c1["body"], c1["signer"], c1["key"], c1["subject"]) == (keys["A"], keys["A"], keys["nodeA"], "node"), "C1")
    check((c2["key"], c2["name"], c2["role"], c2["can_sign"]) == (keys["member"], "李四", "secretary-general", True), "C2")
    check((c3["signer"], c3["key"], c3["subject"]) == (keys["A"], keys["A2"], "body key"), "C3")
    check((c4["body"], c4["key"], c4["body_name"]) == (keys["B"], keys["nodeB"], "金山区政协"), "C4")
    print("ok  C1–C4: certificates, signatures under confer/certificate/v2")

    g = genesis(b["G"])
    space = g["id"]
    check(space.hex() in stated, "the space id the page states")
    check(g["members"] == sorted([keys["A"], keys["B"]]) and g["creator"]["key"] == keys["member"], "G")
    print(f"ok  G: genesis, space id {space.hex()}")

    e = entry(b["E"])
    check((e["space"], e["body"], e["actor"], e["seq"], e["deps"]) == (space, keys["A"], keys["member"], 1, []), "E")
    check(e["hash"].hex() in stated and e["entry_hash"].hex() in stated and e["hash"][:16].hex() in stated, "E's hashes")
    print(f"ok  E: entry, change hash {e['hash'].hex()}")

    r1, r2 = revocation(b["R1"]), revocation(b["R2"])
    check((r1["scope"], r1["space"], r1["seq"], r1["key"]) == ("space", space, 1, keys["member"]), "R1")
    check((r2["scope"], r2["signer"], r2["key"]) == ("later", keys["A2"], keys["stolen"]), "R2")
    print("ok  R1, R2: revocations (R2 signed by the key C3 certifies)")

    m = change(Reader(b["M"], "change"))
    check((m["space"], m["prev"], m["op"], m["target"]) == (space, space, 1, keys["C"]), "M")
    check(m["id"].hex() in stated and m["state_after"].hex() in stated, "M's id and state")
    k = consent(b["K"])
    check(k["change"]["bytes"] == b["M"] and k["cert"]["key"] == keys["member"], "K")
    print(f"ok  M, K: membership change {m['id'].hex()} and its consent")

    msgs = {t: message(b[str(t)]) for t in range(1, 11)}
    check(msgs[1]["node"] == b["C1"] and msgs[1]["chain"] == [b["C3"]], "1: Hello")
    check(msgs[2]["node"] == b["C4"] and msgs[2]["chain"] == [], "2: HelloAck")
    check(msgs[3]["genesis"] == b["G"] and msgs[3]["vector"] == [(keys["member"], 1)], "3: SyncRequest")
    check(msgs[3]["tips"] == [e["hash"][:16]], "3: the tip is the change hash's first 16 bytes")
    check(msgs[4]["certs"] == [b["C2"]] and msgs[4]["entries"] == [b["E"]] and not msgs[4]["more"], "4")
    check(msgs[5]["genesis"] is None and msgs[5]["entries"] == [b["E"]], "5: Push")
    check(msgs[6]["vector"] == [(keys["member"], 1)], "6: PushAck")
    check((msgs[7]["space"], msgs[7]["reason"]) == (space, 2), "7: Refused")
    check(msgs[8]["revocations"] == [b["R1"]], "8: Revoke")
    check(msgs[9]["consents"] == [b["K"]], "9: Membership")
    check(msgs[10]["revocations"] == [b["R2"]], "10: Revocations")
    for t in range(1, 11):
        check(msgs[t].get("space", space) in (space, None), f"{t}: space id")
    print("ok  1–10: every message decodes by section 4, nothing left over, objects as above")


if __name__ == "__main__":
    main()
