"""The choices a portal offers its users, so that no front end hard-codes them: storage regions,
retention bounds, notification languages, the services a backup can protect, and the legal
agreement a customer confirms while onboarding. The rules that check input read the same values."""

from __future__ import annotations

from dataclasses import dataclass

from vdc_graph.enums import M365Service, Region
from vdc_graph.notify.languages import SUPPORTED_LANGUAGES

# The retention a customer may choose (checked by onboarding and the invitation page).
MIN_RETENTION_YEARS, MAX_RETENTION_YEARS = 1, 25

REGIONS: dict[Region, str] = {
    Region.AMER: "Americas",
    Region.EMEA: "Europe, Middle East and Africa",
    Region.APJ: "Asia Pacific and Japan",
}

SERVICES: dict[M365Service, str] = {
    M365Service.EXCHANGE: "Exchange Online",
    M365Service.ONEDRIVE_SHAREPOINT: "OneDrive and SharePoint",
    M365Service.TEAMS: "Microsoft Teams",
}

# The languages notifications can be sent in: the one list the settings mutations accept.
LANGUAGES: dict[str, str] = SUPPORTED_LANGUAGES


@dataclass(frozen=True)
class LegalAgreement:
    version: str
    text: str


LEGAL_AGREEMENT = LegalAgreement(
    version="2025-01",
    text=(
        "Microsoft 365 Backup Service Agreement\n\n"
        "1. The service provider backs up the Microsoft 365 data of the customer's tenant "
        "(Exchange Online, OneDrive, SharePoint and Teams, as selected) to the storage region "
        "chosen during onboarding, and keeps each backup for the chosen retention period.\n"
        "2. The customer grants the backup application the Microsoft 365 permissions it asks "
        "for when the tenant is connected, and may revoke them at any time, which stops backups.\n"
        "3. Backup data is encrypted in transit and at rest and is not moved out of the chosen "
        "region unless the customer allows several regions.\n"
        "4. Usage is billed monthly by licensed user, as reported in the monthly usage report.\n"
        "5. When the customer is offboarded, its backup data is deleted on the agreed date.\n"
    ),
)


@dataclass(frozen=True)
class RetentionBounds:
    min_years: int = MIN_RETENTION_YEARS
    max_years: int = MAX_RETENTION_YEARS
    unlimited_allowed: bool = True
