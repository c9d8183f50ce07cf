"""Writes of the product catalogue (issue #6, item 1): product create and update, image checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from crm.models import User
from deals.models import Product

IMAGE_MAX_BYTES = 2 * 1024 * 1024
# Pillow's format name → the extension the stored file gets (the upload's own name is not trusted).
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# Decompression bombs: a small file that decodes to a huge bitmap.
IMAGE_MAX_PIXELS = 40_000_000
CHANGE_PRODUCT = "deals.change_product"


def product_image_check(upload: UploadedFile) -> str:
    """The image's extension (jpg/png/webp) after checking its size and real content with Pillow.

    Raises ValidationError keyed by "image" for a file over 2 MB or anything but a JPEG, PNG or WebP picture
    (whatever its name or declared content type says).
    """
    if upload.size is None or upload.size > IMAGE_MAX_BYTES:
        raise ValidationError(
            {"image": _("The image is larger than %(max)s.") % {"max": filesizeformat(IMAGE_MAX_BYTES)}}
        )
    not_an_image = ValidationError({"image": _("Upload a JPEG, PNG or WebP picture.")})
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format or ""
            if image_format not in IMAGE_FORMATS:
                raise not_an_image
            if image.width * image.height > IMAGE_MAX_PIXELS:
                raise ValidationError({"image": _("The picture is too large: at most 40 megapixels.")})
            image.verify()  # reads the whole stream: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise not_an_image from None
    finally:
        upload.seek(0)
    return IMAGE_FORMATS[image_format]


def _check_can_change(actor: User) -> None:
    if not actor.is_active or not actor.has_perm(CHANGE_PRODUCT):
        raise PermissionDenied


def _save(product: Product, fields: dict[str, Any]) -> Product:
    image = fields.pop("image", None)
    clear_image = image is False  # ClearableFileInput's "clear" checkbox
    for name, value in fields.items():
        setattr(product, name, value)
    errors: dict[str, list[str]] = {}
    if product.base_price is not None and Decimal(product.base_price) <= 0:
        errors["base_price"] = [_("The price must be above zero.")]
    if product.stock_quantity is not None and product.stock_quantity < 0:
        errors["stock_quantity"] = [_("The stock cannot be negative.")]
    if isinstance(image, UploadedFile):
        try:
            extension = product_image_check(image)
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            image.name = f"{product.sku or 'product'}.{extension}".replace("/", "-")
            product.image = image
    elif clear_image:
        product.image = ""
    try:
        product.full_clean(exclude=list(errors))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    product.save()
    return product


@transaction.atomic
def product_create(*, actor: User, **fields: Any) -> Product:
    """A new catalogue product; PermissionDenied without deals.change_product, ValidationError for bad fields."""
    _check_can_change(actor)
    product = Product()
    product._history_user = actor  # type: ignore[attr-defined]  # simple-history: who, outside a request too
    return _save(product, fields)


@transaction.atomic
def product_update(*, actor: User, product: Product, **fields: Any) -> Product:
    """Save a product's fields (each save is a history row: price changes show in its "Changes" tab)."""
    _check_can_change(actor)
    product._history_user = actor  # type: ignore[attr-defined]
    return _save(product, fields)
