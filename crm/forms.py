from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from crm import selectors
from crm.models import NotificationKind, User


class LoginForm(AuthenticationForm):
    """E-mail and password; the error never tells which of the two was wrong."""

    username = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": _("The e-mail or password is not correct. Check both and try again."),
        "inactive": _("This account is disabled. Ask your administrator."),
    }


class NotificationPreferencesForm(forms.Form):
    """Channels per notification kind ("<kind>-in_app", "<kind>-by_email") and the quiet hours."""

    email_notifications = forms.BooleanField(
        label=_("Other notifications by e-mail"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label=_("until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
    )

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        channels = selectors.notification_channels(user=user)
        initial = {
            "email_notifications": user.email_notifications,
            "quiet_hours_start": user.quiet_hours_start,
            "quiet_hours_end": user.quiet_hours_end,
        }
        for kind, (in_app, by_email) in channels.items():
            initial[f"{kind}-in_app"] = in_app
            initial[f"{kind}-by_email"] = by_email
        super().__init__(*args, initial=initial, **kwargs)  # type: ignore[arg-type]  # form kwargs pass through
        for kind in channels:
            label = NotificationKind(kind).label
            self.fields[f"{kind}-in_app"] = forms.BooleanField(
                label=_("%(kind)s in the bell") % {"kind": label}, required=False
            )
            self.fields[f"{kind}-by_email"] = forms.BooleanField(
                label=_("%(kind)s by e-mail") % {"kind": label}, required=False
            )

    def kind_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(kind.label, self[f"{kind.value}-in_app"], self[f"{kind.value}-by_email"]) for kind in NotificationKind]

    def service_kwargs(self) -> dict[str, object]:
        """Arguments of services.notification_preferences_save (after is_valid())."""
        data = self.cleaned_data
        return {
            "channels": {kind: (data[f"{kind}-in_app"], data[f"{kind}-by_email"]) for kind in NotificationKind.values},
            "email_notifications": data["email_notifications"],
            "quiet_hours_start": data["quiet_hours_start"],
            "quiet_hours_end": data["quiet_hours_end"],
        }
