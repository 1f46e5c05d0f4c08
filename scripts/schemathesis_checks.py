"""What scripts/schemathesis.sh checks beyond schemathesis's own checks.

Loaded by schemathesis as a hooks module (SCHEMATHESIS_HOOKS=schemathesis_checks): the
check `refusals_are_json_errors`. Run as a program, it compares what a node stores with
what the run's successful calls made (`verify`):

    python schemathesis_checks.py verify BASE_URL TOKEN HAR...
    python schemathesis_checks.py counts BASE_URL TOKEN
    python schemathesis_checks.py seed BASE_URL TOKEN HAR    (prints the ids made)
"""

import json
import sys
import urllib.parse
import urllib.request

try:  # Only when loaded as hooks: `verify` runs without schemathesis's machinery.
    import schemathesis
except ImportError:  # pragma: no cover
    schemathesis = None


def refusal_problem(status, content_type, content):
    """Why a response is not a clear JSON refusal, or None."""
    if status < 400:
        return None
    if not content_type.split(";")[0].strip().lower() == "application/json":
        return f"HTTP {status} with Content-Type {content_type!r}, not application/json"
    try:
        body = json.loads(content)
    except ValueError as e:
        return f"HTTP {status}: the body is not JSON ({e})"
    if not isinstance(body, dict):
        return f"HTTP {status}: the body is not a JSON object"
    for field in ("code", "message"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"HTTP {status}: no {field!r} string in {body}"
    if "detail" in body:
        detail = body["detail"]
        if isinstance(detail, dict):
            # A refusal by the document's rules (`refused`) says why in both languages.
            for lang in ("en", "zh"):
                if not isinstance(detail.get(lang), str) or not detail[lang]:
                    return f"HTTP {status}: 'detail' has no {lang!r} string in {body}"
            if set(detail) != {"en", "zh"}:
                return f"HTTP {status}: 'detail' has fields other than 'en' and 'zh' in {body}"
            if body["code"] != "refused":
                return f"HTTP {status}: a bilingual 'detail' with code {body['code']!r} in {body}"
        elif not isinstance(detail, str):
            return f"HTTP {status}: 'detail' is neither a string nor {{en, zh}} in {body}"
    return None


if schemathesis is not None:

    @schemathesis.check
    def refusals_are_json_errors(ctx, response, case):
        """Every answer of 400 or more is a JSON object with a `code` and a `message`."""
        content_type = ",".join(response.headers.get("content-type", [])) or "(none)"
        problem = refusal_problem(response.status_code, content_type, response.content)
        if problem is not None:
            raise AssertionError(problem)


# ---- verify: nothing stored from a refused call ---------------------------------------


def api(base, token, path):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def seed(base, token, har_path):
    """Makes an agenda with a round, a suggestion and an outcome through the API, for a run
    whose path parameters are these ids (so it reaches the routes that need existing
    records). Records its calls in HAR's shape, so `verify` counts what they made. Prints
    the ids as JSON."""
    entries = []

    def post(path, body):
        request = urllib.request.Request(
            base + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            entries.append(
                {
                    "request": {"method": "POST", "url": base + path},
                    "response": {"status": response.status},
                }
            )
            return json.load(response)["id"]

    agenda = post("/v1/agendas", {"title": "schemathesis 种子议题", "summary": "", "with": []})
    records = f"/v1/agendas/{agenda}/records"
    round_ = post(records, {"collection": "round", "fields": {"number": "1"}})
    suggestion = post(
        records,
        {"collection": "suggestion", "fields": {"round": round_, "text": "加强跨界河道联合治理"}},
    )
    outcome = post(
        records,
        {
            "collection": "outcome",
            "fields": {
                "round": round_,
                "kind": "resolution",
                "title": "关于跨界河道联合治理的决议",
                "text": "两地共同建立河长协作机制。",
                "suggestions": suggestion,
            },
        },
    )
    with open(har_path, "w", encoding="utf-8") as f:
        json.dump({"log": {"entries": entries}}, f)
    print(json.dumps({"agenda": agenda, "suggestion": suggestion, "outcome": outcome}))
    return 0


def made_by_the_run(har_paths):
    """What the successful calls of the runs made: agendas; records per agenda (a record
    written (201) or an outcome signed (201: an attestation record)); ledger records.
    Also the calls that answered 5xx or not at all (then nothing can be concluded)."""
    entries = []
    for har_path in har_paths:
        with open(har_path, encoding="utf-8") as f:
            entries += json.load(f)["log"]["entries"]
    agendas = 0
    records = {}
    ledger = 0
    unclear = []
    for entry in entries:
        method = entry["request"]["method"]
        path = urllib.parse.urlsplit(entry["request"]["url"]).path
        status = entry["response"]["status"]
        if status == 0 or status >= 500:
            unclear.append(f"{method} {path}: {status}")
            continue
        if method != "POST" or status != 201:
            continue
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts == ["v1", "agendas"]:
            agendas += 1
        elif parts == ["v1", "ledger", "records"]:
            ledger += 1
        elif len(parts) == 4 and parts[:2] == ["v1", "agendas"] and parts[3] == "records":
            records[parts[2]] = records.get(parts[2], 0) + 1
        elif len(parts) == 6 and parts[:2] == ["v1", "agendas"] and parts[5] == "sign":
            records[parts[2]] = records.get(parts[2], 0) + 1
        else:
            unclear.append(f"{method} {path}: 201 from a route that should not make anything")
    return agendas, records, ledger, len(entries), unclear


def stored(base, token):
    """What the node holds: its agendas (not invitations), each one's records, the ledger's."""
    agendas = [a for a in api(base, token, "/v1/agendas") if not a["invited"]]
    records = {}
    for agenda in agendas:
        view = api(base, token, f"/v1/agendas/{agenda['id']}")
        records[agenda["id"]] = sum(len(r) for r in view["records"].values())
    ledger = api(base, token, "/v1/ledger")
    return len(agendas), records, sum(len(r) for r in ledger["records"].values())


def verify(base, token, har_paths):
    made_agendas, made_records, made_ledger, calls, unclear = made_by_the_run(har_paths)
    if unclear:
        print("schemathesis: calls with no clear outcome:", *unclear[:20], sep="\n    ")
        return 1
    held_agendas, held_records, held_ledger = stored(base, token)
    made_total = sum(made_records.values())
    print(
        f"schemathesis: {calls} calls recorded; the successful ones made {made_agendas} "
        f"agenda(s), {made_total} agenda record(s), {made_ledger} ledger record(s); the node "
        f"holds {held_agendas}, {sum(held_records.values())}, {held_ledger}"
    )
    problems = []
    if held_agendas != made_agendas:
        problems.append(f"agendas: {made_agendas} made by successful calls, {held_agendas} held")
    for agenda in sorted(set(made_records) | set(held_records)):
        made, held = made_records.get(agenda, 0), held_records.get(agenda, 0)
        if made != held:
            problems.append(f"agenda {agenda}: {made} record(s) made, {held} held")
    if held_ledger != made_ledger:
        problems.append(f"ledger: {made_ledger} record(s) made, {held_ledger} held")
    for p in problems:
        print(f"FAIL  {p}")
    return 1 if problems else 0


def counts(base, token):
    """One line that a restarted node must print the same."""
    agendas, records, ledger = stored(base, token)
    return json.dumps([agendas, sorted(records.items()), ledger])


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2], sys.argv[3], sys.argv[4:]))
    if len(sys.argv) == 5 and sys.argv[1] == "seed":
        sys.exit(seed(sys.argv[2], sys.argv[3], sys.argv[4]))
    if len(sys.argv) == 4 and sys.argv[1] == "counts":
        print(counts(sys.argv[2], sys.argv[3]))
        sys.exit(0)
    print(__doc__, file=sys.stderr)
    sys.exit(2)
