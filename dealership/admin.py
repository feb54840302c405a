from allauth.account.decorators import secure_admin_login
from django.contrib import admin

from .models import Branch, Customer, Notification, Vehicle

# The admin's own login form would skip allauth's sign-in limit and second
# factor; signing in to the admin goes through the portal's login instead
# (which then sends the user back to the admin page they asked for).
admin.site.login = secure_admin_login(admin.site.login)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "phone"]
    search_fields = ["code", "name"]


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


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["plate_number", "make", "model", "year", "customer", "shaken_expiry"]
    list_filter = ["make"]
    search_fields = ["plate_number", "vin", "make", "model", "customer__name", "customer__name_kana"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "text", "read_at", "email_status", "email_attempts"]
    list_filter = ["kind", "email_status"]
    search_fields = ["recipient__email", "recipient__display_name", "email_error"]
    list_select_related = ["recipient"]
    readonly_fields = ["email_error", "email_attempts", "email_sent_at", "claimed_at", "created_at"]
    raw_id_fields = ["recipient", "actor"]
