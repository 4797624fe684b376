"""Creating challenges (from scratch, from an uploaded bundle), editing their texts, access
and e-mail allow-list, announcements."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import sqlalchemy as sa
import yaml

from lai_platform.accounts.users import find_user
from lai_platform.challenges.lookups import find_challenge
from lai_platform.challenges.roles import role_of
from lai_platform.extensions import db
from lai_platform.models import AuditEvent, Challenge
from tests.organizing.conftest import Cast


def count_challenges(cast: Cast) -> int:
    with cast.platform.app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Challenge.id)))


def audit(cast: Cast, action: str) -> list[AuditEvent]:
    with cast.platform.app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)).all()
        for event in events:
            db.session.expunge(event)
        return list(events)


def test_a_platform_admin_creates_a_challenge_and_names_its_first_admin(cast):
    page = cast.platform_admin.web.post_form(
        "/organize/new", slug="kidney-2026", title="Kidney lesions",
        first_admin=cast.outsider.email)
    assert page.status_code == 200
    assert "Challenge &#39;Kidney lesions&#39; created" in page.get_data(as_text=True)
    with cast.platform.app.app_context():
        challenge = find_challenge("kidney-2026")
        assert challenge.title == "Kidney lesions" and challenge.phases == []
        assert role_of(find_user(cast.outsider.email), challenge) == "admin"
    created = audit(cast, "challenge.create")[-1]
    assert created.after["slug"] == "kidney-2026"
    assert audit(cast, "role.set")[-1].target == cast.outsider.email
    # The new admin now organizes it.
    assert cast.outsider.web.client.get("/organize/kidney-2026/settings").status_code == 200


def test_every_bad_value_of_a_new_challenge_is_named_and_nothing_is_created(cast):
    before = count_challenges(cast)
    page = cast.platform_admin.web.post_form(
        "/organize/new", slug="Bad Slug!", title="  ", first_admin="nobody@example.org")
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "must be 1 to 64 lower-case letters" in html
    assert "The title must not be empty." in html
    assert "No account for &#39;nobody@example.org&#39;" in html
    assert count_challenges(cast) == before
    taken = cast.platform_admin.web.post_form("/organize/new", slug="lai-liver", title="Again")
    assert "A challenge &#39;lai-liver&#39; exists already" in taken.get_data(as_text=True)
    assert count_challenges(cast) == before


def test_only_a_platform_admin_creates_challenges(cast):
    assert cast.admin.web.client.get("/organize/new").status_code == 403
    form = cast.admin.web.post_form("/organize/lai-liver/roles", "/organize/new",
                                    slug="mine", title="Mine")
    assert form.status_code == 403
    api = cast.admin.api.post_json("/api/v1/challenges", {"slug": "mine", "title": "Mine"})
    assert api.status_code == 403
    made = cast.platform_admin.api.post_json("/api/v1/challenges",
                                             {"slug": "mine", "title": "Mine"})
    assert made.status_code == 201 and made.get_json()["slug"] == "mine"


def test_settings_are_checked_all_at_once_and_nothing_is_saved(cast):
    page = "/organize/lai-liver/settings"
    response = cast.editor.web.post_form(page, title="", access="invite-only",
                                         email_domains="uni.example.org\nhttps://bad\n@@",
                                         summary="s", description="d", terms="t", contract="c")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The title must not be empty." in html
    assert "access must be one of open, review, closed" in html
    assert "&#39;https://bad&#39; is not an e-mail domain" in html
    with cast.platform.app.app_context():
        challenge = find_challenge("lai-liver")
        assert challenge.title.startswith("LAI Liver") and challenge.email_domains == []
        assert challenge.access == "open"
    assert audit(cast, "challenge.edit") == []


def test_an_editor_changes_access_and_domains_and_the_audit_keeps_only_changes(cast):
    with cast.platform.app.app_context():
        challenge = find_challenge("lai-liver")
        texts = {"title": challenge.title, "summary": challenge.summary,
                 "description": challenge.description_md, "terms": challenge.terms_md,
                 "contract": challenge.contract_md}
    response = cast.editor.web.post_form("/organize/lai-liver/settings", **texts,
                                         access="review",
                                         email_domains="Uni-Example.org\n\n@hospital.example")
    assert response.status_code == 200
    with cast.platform.app.app_context():
        challenge = find_challenge("lai-liver")
        assert challenge.access == "review"
        assert challenge.email_domains == ["uni-example.org", "hospital.example"]
    event = audit(cast, "challenge.edit")[-1]
    assert event.before == {"access": "open", "email_domains": []}
    assert event.after == {"access": "review",
                           "email_domains": ["uni-example.org", "hospital.example"]}
    reviewer = cast.reviewer.web.post_form("/organize/lai-liver/settings", "/organize/lai-liver/"
                                           "settings", access="open")
    assert reviewer.status_code == 403


def test_the_markdown_preview_is_sanitised_and_no_script_reaches_a_page(cast):
    evil = "**bold** <script>alert('x')</script> <img src=x onerror=alert(1)>"
    page = "/organize/lai-liver/settings"
    preview = cast.editor.web.post_form(page, action="preview", title="LAI", description=evil)
    html = preview.get_data(as_text=True)
    assert "<strong>bold</strong>" in html and 'id="preview-description"' in html
    assert "<script>alert" not in html and "onerror" not in html.replace("onerror=alert(1)&gt;",
                                                                         "")
    with cast.platform.app.app_context():
        assert "script" not in find_challenge("lai-liver").description_md  # not saved
    patch = cast.editor.api.client.patch(
        "/api/v1/challenges/lai-liver", json={"description": evil},
        headers={"Authorization": f"Bearer {cast.editor.api.token}"})
    assert patch.status_code == 200 and patch.get_json()["changed"] == ["description_md"]
    public = cast.outsider.web.client.get("/challenges/lai-liver").get_data(as_text=True)
    assert "<strong>bold</strong>" in public
    assert "<script>alert" not in public and "onerror" not in public


def test_announcements_are_shown_newest_first_on_the_challenge_page(cast):
    page = "/organize/lai-liver/settings"
    cast.editor.web.post_form(page, "/organize/lai-liver/announcements",
                              title="Phase 1 opens", body="Welcome *all*.")
    made = cast.admin.api.post_json("/api/v1/challenges/lai-liver/announcements",
                                    {"title": "Deadline moved", "body": "To **June**."})
    assert made.status_code == 201
    bad = cast.admin.api.post_json("/api/v1/challenges/lai-liver/announcements",
                                   {"title": " ", "body": "x"})
    assert bad.status_code == 400 and "title must not be empty" in bad.get_json()["error"][
        "message"]
    refused = cast.reviewer.api.post_json("/api/v1/challenges/lai-liver/announcements",
                                          {"title": "no", "body": ""})
    assert refused.status_code == 403
    public = cast.outsider.web.client.get("/challenges/lai-liver").get_data(as_text=True)
    assert public.index("Deadline moved") < public.index("Phase 1 opens")
    assert "<strong>June</strong>" in public and "<em>all</em>" in public
    assert [e.target for e in audit(cast, "announcement.create")] == [
        "Phase 1 opens", "Deadline moved"]


# -- bundle uploads ---------------------------------------------------------------------------


def archive_of(folder: Path, kind: str = "tar.gz", spec_change=None) -> bytes:
    """A bundle folder as an archive, challenge.yaml changed by `spec_change(spec)`."""
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    if spec_change is not None:
        spec_change(spec)
    buffer = io.BytesIO()
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "challenge.yaml"
             and "__pycache__" not in p.parts]
    text = yaml.safe_dump(spec).encode()
    if kind == "zip":
        with zipfile.ZipFile(buffer, "w") as out:
            out.writestr("bundle/challenge.yaml", text)
            for path in files:
                out.write(path, f"bundle/{path.relative_to(folder)}")
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as out:
            info = tarfile.TarInfo("bundle/challenge.yaml")
            info.size = len(text)
            out.addfile(info, io.BytesIO(text))
            for path in files:
                out.add(path, f"bundle/{path.relative_to(folder)}")
    return buffer.getvalue()


def upload(cast: Cast, data: bytes, **fields):
    web = cast.platform_admin.web
    token = web.csrf("/organize/new")
    return web.client.post("/organize/new/bundle", data={
        "csrf_token": token, **fields, "image": (io.BytesIO(data), "bundle.tar.gz")},
        content_type="multipart/form-data", follow_redirects=True)


def test_a_bundle_archive_uploads_into_a_new_challenge(cast, demo_bundle):
    response = upload(cast, archive_of(demo_bundle, "zip"), slug="liver-copy",
                      first_admin=cast.editor.email)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "loaded with 2 phase(s)" in response.get_data(as_text=True)
    with cast.platform.app.app_context():
        copy = find_challenge("liver-copy")
        assert [p.slug for p in copy.phases] == ["development", "final-test"]
        assert copy.phases[0].dataset.n_cases == 40
    assert audit(cast, "challenge.create")[-1].after["from"] == "bundle"


def test_uploaded_bundles_that_run_code_or_escape_are_refused(cast, demo_bundle):
    before = count_challenges(cast)

    def generator(spec):
        spec["data"] = {"generator": "generate.py"}

    html = upload(cast, archive_of(demo_bundle, spec_change=generator),
                  slug="gen").get_data(as_text=True)
    assert "a generator (Python code) is not run for an upload" in html

    def escape(spec):
        spec["contract"] = "../../../etc/passwd"

    html = upload(cast, archive_of(demo_bundle, spec_change=escape), slug="esc").get_data(
        as_text=True)
    assert "contract points outside the bundle" in html
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as out:
        info = tarfile.TarInfo("../evil.txt")
        out.addfile(info, io.BytesIO(b""))
    html = upload(cast, buffer.getvalue()).get_data(as_text=True)
    assert "which leads outside it" in html
    link = io.BytesIO()
    with tarfile.open(fileobj=link, mode="w") as out:
        info = tarfile.TarInfo("bundle/challenge.yaml")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        out.addfile(info)
    assert "which is a link or a device" in upload(cast, link.getvalue()).get_data(as_text=True)
    assert "is not a tar, tar.gz or zip" in upload(cast, b"not an archive").get_data(
        as_text=True)
    assert count_challenges(cast) == before


def test_a_bundle_upload_needs_the_forms_token_and_a_platform_admin(cast, demo_bundle):
    data = archive_of(demo_bundle)
    stale = cast.platform_admin.web.client.post(
        "/organize/new/bundle", data={"csrf_token": "forged", "image": (io.BytesIO(data), "b")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "The form has expired" in stale.get_data(as_text=True)
    web = cast.admin.web
    refused = web.client.post("/organize/new/bundle", data={
        "csrf_token": web.csrf("/organize/lai-liver/roles"), "image": (io.BytesIO(data), "b")},
        content_type="multipart/form-data")
    assert refused.status_code == 403
    api = cast.platform_admin.api.client.post(
        "/api/v1/challenges?slug=api-copy", data=data, content_type="application/gzip",
        headers={"Authorization": f"Bearer {cast.platform_admin.api.token}"})
    assert api.status_code == 201 and api.get_json()["phases"] == ["development", "final-test"]
