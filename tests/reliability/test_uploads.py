"""Uploads: only real pictures, judged by their bytes; limits on size and pixels; stored as
re-encoded copies without metadata (no GPS); served only to those who may see the case."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from gongzhi.cases.services import MAX_PHOTO_BYTES
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.images import MAX_PHOTO_PIXELS, image_clean

from .conftest import phone_photo, picture, upload

LIMITS = {"max_bytes": MAX_PHOTO_BYTES, "max_pixels": MAX_PHOTO_PIXELS}


def stored(photo) -> tuple[Image.Image, bytes]:
    with photo.image.open("rb") as handle:
        data = handle.read()
    return Image.open(io.BytesIO(data)), data


def test_a_phone_photo_is_stored_upright_and_without_gps_or_any_metadata(report):
    original = Image.open(io.BytesIO(phone_photo(orientation=6)))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input does carry GPS

    case = report(photos=[upload("IMG_0001.JPG", phone_photo(orientation=6))])

    photo = case.photos.get()
    image, data = stored(photo)
    assert image.format == "JPEG"
    assert not image.getexif()  # no EXIF at all: no GPS, no device, no orientation
    assert "exif" not in image.info and "comment" not in image.info
    assert b"Exif" not in data and b"iPhone" not in data and b"home of Wang" not in data
    # EXIF orientation 6 (turn 90° clockwise) applied before the tags went: 40×20 → 20×40
    assert image.size == (20, 40) and (photo.width, photo.height) == (20, 40)


def test_a_png_named_jpg_is_taken_as_the_png_it_is(report):
    case = report(photos=[upload("photo.jpg", picture("PNG", (30, 30)))])

    photo = case.photos.get()
    image, _ = stored(photo)
    assert image.format == "PNG"
    assert photo.image.name.endswith(".png")


def test_png_text_chunks_and_colour_profiles_are_dropped():
    from PIL import ImageCms, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "王先生家 1号楼101")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cleaned = image_clean(
        upload("s.png", picture("PNG", pnginfo=info, icc_profile=profile)), **LIMITS
    )

    data = cleaned.read()
    image = Image.open(io.BytesIO(data))
    assert "Comment" not in image.info and "icc_profile" not in image.info
    assert "王先生家".encode() not in data


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("photo.jpg", b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"),
        (
            "drawing.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
        ),
        ("scan.jpg", b"%PDF-1.7\n1 0 obj<<>>endobj\n"),
        ("cut.jpg", phone_photo()[:300]),  # truncated in transit
        ("cut.png", picture("PNG", (200, 200))[:-40]),
        ("empty.jpg", b""),
        ("tiny.bmp", picture("BMP")),  # a real image, but not a format we take
    ],
)
def test_anything_but_a_whole_photo_is_refused_in_chinese(report, name, data):
    with pytest.raises(ValidationFailed) as refused:
        report(photos=[upload(name, data)])

    assert refused.value.code == "invalid_photo"
    assert "图片" in str(refused.value.message) or "空文件" in str(refused.value.message)
    with pytest.raises(ValidationFailed) as refused:
        image_clean(upload(name, data), **LIMITS)
    assert refused.value.code == "invalid_photo" and f"“{name}”" in str(refused.value.message)


def test_an_oversized_file_is_refused_before_it_is_read(report):
    big = SimpleUploadedFile("big.jpg", b"\xff" * (MAX_PHOTO_BYTES + 1), "image/jpeg")

    with pytest.raises(ValidationFailed) as refused:
        report(photos=[big])

    assert refused.value.code == "photo_too_large"
    assert str(refused.value.message) == "每张照片不能超过 10MB。"


def test_a_file_lying_about_its_size_is_cut_off_at_the_limit():
    class Lying(io.BytesIO):
        size = 10
        name = "liar.jpg"

    with pytest.raises(ValidationFailed) as refused:
        image_clean(Lying(phone_photo()), max_bytes=200, max_pixels=MAX_PHOTO_PIXELS)
    assert refused.value.code == "photo_too_large"


def test_a_decompression_bomb_is_refused_without_decoding_it(report):
    # 9,000 × 9,000 one-bit pixels: about 10 KB on disk, 81 megapixels (243 MB) decoded.
    bomb = picture("PNG", (9000, 9000), mode="1", optimize=True)
    assert len(bomb) < 50_000

    with pytest.raises(ValidationFailed) as refused:
        report(photos=[upload("bomb.png", bomb)])

    assert refused.value.code == "photo_too_many_pixels"
    assert "百万像素" in str(refused.value.message)


def test_transparent_pictures_stay_transparent_and_webp_becomes_jpeg():
    rgba = image_clean(upload("a.png", picture("PNG", mode="RGBA")), **LIMITS)
    webp = image_clean(upload("b.webp", picture("WEBP")), **LIMITS)

    assert Image.open(rgba).mode == "RGBA" and rgba.name == "a.png"
    assert Image.open(webp).format == "JPEG" and webp.name == "b.jpg"


# Pillow warns about the damaged EXIF it skips; skipping it is the point.
@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=2000))
def test_random_bytes_or_a_damaged_photo_is_refused_cleanly_never_crashes(noise, cut):
    """Whatever arrives, the answer is a clean picture or `ValidationFailed` — no other
    exception a request would turn into a server error."""
    photo = phone_photo()
    damaged = photo[:cut] + noise + photo[cut + len(noise) :]
    for data in (noise, damaged):
        try:
            cleaned = image_clean(upload("x.jpg", data), **LIMITS)
        except ValidationFailed:
            continue
        assert Image.open(cleaned).format in {"JPEG", "PNG"}


# --- who gets the file ------------------------------------------------------------------


@pytest.fixture
def photographed(report):
    case = report(photos=[upload("a.jpg", phone_photo())])
    return case, case.photos.get()


def test_photos_are_served_only_to_those_who_may_see_the_case(client, people, photographed):
    _case, photo = photographed
    url = f"/work/photos/{photo.pk}"
    missing = f"/work/photos/{photo.pk + 1000}"

    for who in ("resident", "grid_worker", "worker", "secretary", "supervisor"):
        client.force_login(people[who])
        response = client.get(url)
        assert response.status_code == 200, who
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, max-age=3600"
        assert b"Exif" not in b"".join(response.streaming_content)

    for who in ("other_worker", "volunteer", "partner", "property"):
        client.force_login(people[who])
        outside, absent = client.get(url), client.get(missing)
        assert outside.status_code == absent.status_code == 404, who
        assert outside.content == absent.content

    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page, nothing served


def test_the_api_serves_a_photo_only_to_those_who_may_see_the_case(client, people, photographed):
    case, photo = photographed
    url = f"/api/v1/cases/{case.number}/photos/{photo.pk}"

    client.force_login(people["grid_worker"])
    assert client.get(url).status_code == 200
    client.force_login(people["other_worker"])
    outside = client.get(url)
    absent = client.get(f"/api/v1/cases/{case.number}/photos/{photo.pk + 1000}")
    assert outside.status_code == absent.status_code == 404
    assert outside.json() == absent.json()
