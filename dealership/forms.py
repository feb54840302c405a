"""Form fields every app's forms use.

A row id typed into a form or a crafted request must be an id the database
can hold before any query runs (dealership.ids): otherwise a 30-digit
"customer" answers 500 on SQLite instead of "Select a valid choice".
"""

from __future__ import annotations

from django import forms

from .ids import parse_id


class IdChoiceField(forms.ModelChoiceField):
    """A model choice whose submitted value must look like an id before any query runs."""

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, self.queryset.model) and parse_id(value) is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several model choices, each checked like IdChoiceField's."""

    def _check_values(self, value):
        for pk in value:
            if not isinstance(pk, self.queryset.model) and parse_id(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:20]}
                )
        return super()._check_values(value)
