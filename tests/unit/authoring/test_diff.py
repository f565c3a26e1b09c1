"""diff: a protocol whose content changed while its version did not is named (issue 15)."""

from __future__ import annotations

from kapdecide.assessment.report import ProtocolRef
from kapdecide.authoring.diff import not_bumped


def ref(pid: str, version: str, sha: str) -> ProtocolRef:
    return ProtocolRef(id=pid, version=version, title="t", sha256=sha * 64)


def test_same_version_different_content_is_named_with_what_to_do() -> None:
    (v,) = not_bumped([ref("kap_sud", "1.2.0", "a"), ref("other", "1.0.0", "c")], [ref("kap_sud", "1.2.0", "b")])
    assert (v.id, v.version, v.old_sha256[0], v.new_sha256[0]) == ("kap_sud", "1.2.0", "a", "b")
    assert v.message == "protocol kap_sud 1.2.0: content changed but version did not: bump the version"


def test_a_bumped_version_an_unchanged_file_or_a_new_protocol_is_not_named() -> None:
    old = [ref("kap_sud", "1.2.0", "a")]
    assert not_bumped(old, [ref("kap_sud", "1.3.0", "b")]) == []
    assert not_bumped(old, [ref("kap_sud", "1.2.0", "a")]) == []
    assert not_bumped(old, [ref("new_one", "1.2.0", "b")]) == []
