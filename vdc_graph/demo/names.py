"""The vocabulary the demo data is drawn from: company names, people, policy templates and the
wording of session logs. Plain constants, so the generator stays deterministic."""

from __future__ import annotations

from vdc_graph.enums import BackupObjectType, BackupType, M365Service, Region

# Microsoft's fictitious companies: the first customers of a data set get these.
CLASSIC_COMPANIES = (
    "Contoso",
    "Fabrikam",
    "Northwind Traders",
    "Adventure Works Cycles",
    "Tailspin Toys",
    "Wingtip Toys",
    "Litware Inc.",
    "Proseware",
    "Alpine Ski House",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Fourth Coffee",
    "Lamna Healthcare",
    "Margie's Travel",
    "Trey Research",
    "Woodgrove Bank",
    "Humongous Insurance",
    "Wide World Importers",
    "Relecloud",
    "Southridge Video",
    "VanArsdel Ltd",
    "Lucerne Publishing",
    "A. Datum Corporation",
    "Consolidated Messenger",
    "Graphic Design Institute",
    "School of Fine Art",
    "Tailwind Traders",
    "First Up Consultants",
    "Bellows College",
    "Nod Publishers",
    "Fincher Architects",
    "City Power & Light",
    "Best For You Organics",
    "Munson's Pickles and Preserves",
    "Liberty's Delightful Bakery",
    "The Phone Company",
    "Northridge Dental",
    "Woodgrove Pharmacy",
)

NAME_STEMS = (
    "Alpine",
    "Harbor",
    "Summit",
    "Riverside",
    "Northgate",
    "Lakeside",
    "Oakridge",
    "Bluewater",
    "Granite",
    "Silverline",
    "Redwood",
    "Maple",
    "Cedar",
    "Ironbridge",
    "Westfield",
    "Eastwood",
    "Highland",
    "Meadowbrook",
    "Pinecrest",
    "Stonegate",
    "Brightwater",
    "Clearview",
    "Goldfield",
    "Kingsbridge",
    "Larkspur",
    "Millbrook",
    "Newport",
    "Old Town",
    "Parkside",
    "Queensway",
    "Rosewood",
    "Sandhill",
    "Thornbury",
    "Unity",
    "Valleyview",
    "Windmill",
    "Yellowstone",
    "Zenith",
    "Aurora",
    "Beacon",
    "Copperfield",
    "Delta",
    "Evergreen",
    "Falcon",
    "Glacier",
    "Horizon",
    "Islandside",
    "Juniper",
    "Keystone",
    "Lighthouse",
    "Marigold",
    "Nordlicht",
    "Orchard",
    "Pioneer",
    "Quarry",
    "Ridgeway",
    "Sunfield",
    "Trident",
    "Upland",
    "Vantage",
)

INDUSTRIES = (
    "Logistics",
    "Dental",
    "Legal",
    "Accounting",
    "Engineering",
    "Architects",
    "Consulting",
    "Manufacturing",
    "Health",
    "Pharmacy",
    "Bakery",
    "Brewing",
    "Construction",
    "Insurance",
    "Realty",
    "Travel",
    "Media",
    "Publishing",
    "Software",
    "Robotics",
    "Energy",
    "Solar",
    "Foods",
    "Motors",
    "Textiles",
    "Veterinary",
    "Clinic",
    "Marine",
    "Aviation",
    "Freight",
    "Analytics",
    "Design",
    "Academy",
    "Hotels",
    "Outdoor",
    "Labs",
    "Security",
    "Telecom",
    "Finance",
    "Capital",
)

LEGAL_SUFFIXES: dict[Region, tuple[str, ...]] = {
    Region.AMER: ("Inc.", "LLC", "Corp.", "Co.", "Group", "Partners", "Ltda."),
    Region.EMEA: ("GmbH", "Ltd", "AG", "B.V.", "S.A.", "SARL", "Oy", "AB", "S.r.l.", "plc"),
    Region.APJ: ("Pty Ltd", "K.K.", "Pte. Ltd.", "Ltd", "Limited", "Group"),
}

FIRST_NAMES = (
    "Adele",
    "Alex",
    "Allan",
    "Amara",
    "Ben",
    "Carlos",
    "Chen",
    "Diego",
    "Emily",
    "Fatima",
    "Grady",
    "Hana",
    "Henrietta",
    "Isaiah",
    "Johanna",
    "Joni",
    "Kenji",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Noah",
    "Olga",
    "Patti",
    "Pradeep",
    "Priya",
    "Raul",
    "Sakura",
    "Sofia",
    "Tomas",
    "Uma",
    "Valentina",
    "Wei",
    "Yusuf",
    "Zoe",
    "Lars",
    "Ingrid",
    "Mateo",
)

LAST_NAMES = (
    "Vance",
    "Wilber",
    "Deyoung",
    "Okafor",
    "Walters",
    "Alvarez",
    "Wang",
    "Siciliani",
    "Braun",
    "Haddad",
    "Archie",
    "Tanaka",
    "Mueller",
    "Thompson",
    "Lindqvist",
    "Sherman",
    "Suzuki",
    "Gu",
    "Holloway",
    "Robbins",
    "Bowen",
    "Caldwell",
    "Wilke",
    "Fischer",
    "Petrova",
    "Fernandez",
    "Gupta",
    "Sharma",
    "Garcia",
    "Ito",
    "Rossi",
    "Novak",
    "Nair",
    "Moreau",
    "Zhang",
    "Demir",
    "Laurent",
    "Jensen",
    "Nilsen",
    "Costa",
)

SHARED_MAILBOXES = (
    "Reception",
    "Info",
    "Sales Inbox",
    "Support Desk",
    "Accounts Payable",
    "Careers",
    "Test User",
    "Conference Room A",
)

GROUPS = (
    "Finance",
    "Human Resources",
    "Sales",
    "Marketing",
    "Engineering",
    "Executive Board",
    "Legal",
    "Operations",
    "Customer Success",
    "IT",
)

SITES = (
    "Intranet",
    "Finance",
    "HR Policies",
    "Projects",
    "Sales Collateral",
    "Quality Management",
    "Board Documents",
    "Archive",
)

TEAMS = (
    "Leadership Team",
    "Product Launch",
    "Project Phoenix",
    "Customer Escalations",
    "Onboarding",
    "All Company",
)

LANGUAGES_BY_REGION: dict[Region, tuple[str, ...]] = {
    Region.AMER: ("en", "en", "en", "en", "es"),
    Region.EMEA: ("en", "en", "de", "fr", "es", "it"),
    Region.APJ: ("en", "en", "ja"),
}

ALL_SERVICES = [s.value for s in M365Service]

# (name, backup type, object type selected (None: the whole organization), services)
POLICY_TEMPLATES: tuple[tuple[str, BackupType, BackupObjectType | None, tuple[str, ...]], ...] = (
    ("Entire organization", BackupType.ENTIRE_ORGANIZATION, None, tuple(ALL_SERVICES)),
    (
        "Executive mailboxes",
        BackupType.SELECTED_ITEMS,
        BackupObjectType.USER,
        (M365Service.EXCHANGE.value,),
    ),
    (
        "SharePoint sites",
        BackupType.SELECTED_ITEMS,
        BackupObjectType.SITE,
        (M365Service.ONEDRIVE_SHAREPOINT.value,),
    ),
    ("Teams", BackupType.SELECTED_ITEMS, BackupObjectType.TEAM, (M365Service.TEAMS.value,)),
    (
        "Finance department",
        BackupType.SELECTED_ITEMS,
        BackupObjectType.GROUP,
        (M365Service.EXCHANGE.value, M365Service.ONEDRIVE_SHAREPOINT.value),
    ),
    (
        "Exchange Online daily",
        BackupType.ENTIRE_ORGANIZATION,
        None,
        (M365Service.EXCHANGE.value,),
    ),
)

RESTORE_TYPES = (
    "EXCHANGE_ITEMS",
    "EXCHANGE_ITEMS",
    "EXCHANGE_MAILBOX",
    "ONEDRIVE_FILES",
    "ONEDRIVE_FILES",
    "SHAREPOINT_ITEMS",
    "SHAREPOINT_SITE",
    "TEAMS_CHANNEL",
)

# Problems a session reports, by the service (key of BackupSession.service_counts) they hit.
WARNING_MESSAGES: dict[str, tuple[str, ...]] = {
    "EXCHANGE": (
        "Mailbox of {name} is over 95% of its quota; 3 items were skipped",
        "Exchange Online throttled requests for {name}; processing was retried and slowed down",
    ),
    "ONEDRIVE": (
        'Item "Q3 forecast.xlsx" in the OneDrive of {name} was skipped: the file is locked',
        'Item "Board minutes.docx" in the OneDrive of {name} exceeds the maximum size and '
        "was skipped",
    ),
    "SHAREPOINT": (
        'Site of {name}: list "Archive 2019" has more than 5000 items without an index; '
        "it was processed more slowly",
        'Site of {name}: item "Contract.pdf" is checked out and was skipped',
    ),
    "TEAMS": (
        "Team {name}: the private channel Budget could not be read and was skipped",
        "Team {name}: 2 channel messages were skipped: Microsoft Graph returned HTTP 404",
    ),
}

FAILURE_MESSAGES: dict[str, tuple[str, ...]] = {
    "EXCHANGE": (
        "Processing of {name} failed: Exchange Online returned HTTP 503 after 5 retries",
        "Processing of {name} failed: access to the mailbox was denied",
    ),
    "ONEDRIVE": (
        "Processing of {name} failed: the OneDrive could not be found or is not provisioned",
        "Processing of {name} failed: the operation timed out after 30 minutes",
    ),
    "SHAREPOINT": (
        "Processing of {name} failed: SharePoint Online returned HTTP 429 after 5 retries",
        "Processing of {name} failed: the site is locked (read-only by its administrator)",
    ),
    "TEAMS": ("Processing of {name} failed: the team was archived or deleted during the backup",),
}

DISCONNECTED_MESSAGE = (
    "Cannot connect to the Microsoft 365 organization: the application's consent was "
    "revoked or its certificate has expired; reconnect the tenant"
)

DEGRADED_MESSAGE = (
    "Backups of Exchange Online mailboxes run slower than usual: Microsoft 365 is "
    "throttling requests in this region. No data is at risk."
)

MAINTENANCE_MESSAGE = (
    "Scheduled maintenance of the backup storage; backups started during the window are "
    "queued and run when it ends."
)
