"""Service names and descriptions are customer-facing, so they exist in every language."""

from modeltranslation.translator import TranslationOptions, register

from .models import Service


@register(Service)
class ServiceTranslationOptions(TranslationOptions):
    fields = ("name", "description")
