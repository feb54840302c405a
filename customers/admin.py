from django.contrib import admin

from dealership import versions

from .models import Customer, Vehicle

# The edits below change what the polled screens show: each tells them
# (dealership.versions), as the portal's own services do.


class VehicleInline(admin.TabularInline):
    model = Vehicle
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "name_kana", "branch", "phone", "email", "sales_owner"]
    list_filter = ["branch", "language"]
    search_fields = ["name", "name_kana", "phone", "email", "vehicles__plate_number"]
    list_select_related = ["branch", "sales_owner"]
    autocomplete_fields = ["sales_owner"]
    inlines = [VehicleInline]

    def save_model(self, request, obj: Customer, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change:
            versions.customer_changed(obj, form.changed_data, previous_branch_id=form.initial.get("branch"))

    def save_formset(self, request, form, formset, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        # New vehicles show nowhere yet, and one with jobs cannot be deleted.
        for vehicle, fields in formset.changed_objects:
            versions.vehicle_changed(vehicle, fields)


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate_number", "make", "model", "year", "customer", "shaken_expiry"]
    list_filter = ["make"]
    search_fields = ["plate_number", "vin", "make", "model", "customer__name", "customer__name_kana"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def save_model(self, request, obj: Vehicle, form, change: bool) -> None:
        moved_from = None
        if change and "customer" in form.changed_data:
            moved_from = (
                Customer.objects.filter(pk=form.initial["customer"]).values_list("branch_id", flat=True).first()
            )
        super().save_model(request, obj, form, change)
        if change:
            versions.vehicle_changed(obj, form.changed_data, previous_branch_id=moved_from)
