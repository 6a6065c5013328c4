"""The `platform` query: the choice lists and texts a portal shows, served by the API so that
front ends do not hard-code them."""

from __future__ import annotations

import strawberry

from vdc_graph.resolvers import platform

from .enums import M365Service, Region


@strawberry.type(description="A storage region a customer's backups can be kept in.")
class RegionChoice:
    code: Region = strawberry.field(description="The value to send in inputs.")
    display_name: str = strawberry.field(description="The region's name, for people.")


@strawberry.type(description="A Microsoft 365 service a backup can protect.")
class ServiceChoice:
    code: M365Service = strawberry.field(description="The value to send in inputs.")
    display_name: str = strawberry.field(description="The service's name, for people.")


@strawberry.type(description="A language notifications can be written in.")
class LanguageChoice:
    code: str = strawberry.field(description="The language code to send, such as `de`.")
    display_name: str = strawberry.field(description="The language's own name.")


@strawberry.type(description="How long backups may be kept.")
class RetentionBounds:
    min_years: int = strawberry.field(description="The shortest retention, in whole years.")
    max_years: int = strawberry.field(description="The longest retention, in whole years.")
    unlimited_allowed: bool = strawberry.field(
        description="Whether `retentionUnlimited` (no time limit) may be chosen."
    )


@strawberry.type(description="The agreement a customer confirms during onboarding.")
class LegalAgreement:
    version: str = strawberry.field(description="Its version; a new text has a new version.")
    text: str = strawberry.field(description="The agreement's full text (plain text).")


@strawberry.type(description="The choices and texts the portal offers (the same for everyone).")
class Platform:
    @strawberry.field(description="Storage regions, in the order to offer them.")
    def regions(self) -> list[RegionChoice]:
        return [RegionChoice(code=c, display_name=n) for c, n in platform.REGIONS.items()]

    @strawberry.field(description="Microsoft 365 services a backup can protect.")
    def services(self) -> list[ServiceChoice]:
        return [ServiceChoice(code=c, display_name=n) for c, n in platform.SERVICES.items()]

    @strawberry.field(description="Languages offered for notifications.")
    def languages(self) -> list[LanguageChoice]:
        return [LanguageChoice(code=c, display_name=n) for c, n in platform.LANGUAGES.items()]

    @strawberry.field(description="The bounds of a retention choice.")
    def retention(self) -> RetentionBounds:
        bounds = platform.RetentionBounds()
        return RetentionBounds(
            min_years=bounds.min_years,
            max_years=bounds.max_years,
            unlimited_allowed=bounds.unlimited_allowed,
        )

    @strawberry.field(description="The legal agreement confirmed during onboarding.")
    def legal_agreement(self) -> LegalAgreement:
        agreement = platform.LEGAL_AGREEMENT
        return LegalAgreement(version=agreement.version, text=agreement.text)


@strawberry.type
class PlatformQueries:
    @strawberry.field(
        description="Choice lists (regions, services, languages, retention bounds) and the legal "
        "agreement; open to callers without a token, for the invitation page."
    )
    def platform(self) -> Platform:
        return Platform()
