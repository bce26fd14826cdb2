"""Forms of the queue pages. Rules stay in services; forms only parse and show errors."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from frontdesk.branches.models import Branch, Service, ServicePoint

from .models import Outcome, PriorityReason


class ServiceChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Services by their name alone (the ticket letter is shown beside it by the template)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class CheckInForm(forms.Form):
    """Kiosk, phone and reception check-in."""

    service = ServiceChoiceField(
        queryset=Service.objects.none(), label=_("Service"), empty_label=None, widget=forms.RadioSelect
    )
    customer_name = forms.CharField(label=_("Your name (optional)"), max_length=120, required=False)
    customer_phone = forms.CharField(
        label=_("Mobile number (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_field = self.fields["service"]
        assert isinstance(service_field, forms.ModelChoiceField)
        service_field.queryset = branch.services.all()


class ReceptionCheckInForm(CheckInForm):
    priority_reason = forms.ChoiceField(label=_("Priority"), choices=PriorityReason.choices, required=False)

    def __init__(self, *args: Any, branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, branch=branch, **kwargs)
        self.fields["customer_name"].label = _("Name")
        self.fields["customer_phone"].label = _("Mobile number")
        self.fields["service"].widget = forms.Select()
        service_field = self.fields["service"]
        assert isinstance(service_field, forms.ModelChoiceField)
        service_field.widget.choices = service_field.choices


class CallOutOfOrderForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255)


class FinishForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000
    )


class TransferForm(forms.Form):
    to_service: forms.ModelChoiceField[Service] = forms.ModelChoiceField(
        queryset=Service.objects.none(), label=_("To service"), required=False
    )
    to_service_point = forms.ModelChoiceField(
        queryset=ServicePoint.objects.none(), label=_("To counter"), required=False
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)

    def __init__(self, *args: Any, branch: Branch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service_field = self.fields["to_service"]
        point_field = self.fields["to_service_point"]
        assert isinstance(service_field, forms.ModelChoiceField)
        assert isinstance(point_field, forms.ModelChoiceField)
        service_field.queryset = branch.services.all()
        point_field.queryset = branch.service_points.filter(is_active=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("to_service") and not data.get("to_service_point"):
            raise forms.ValidationError(_("Choose a service or a counter to transfer to."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)
