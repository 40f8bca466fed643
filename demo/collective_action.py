"""Demo data for collective action and the UN norms (used by ``build_demo.py``).

Public facts, each with its public source as an external reference: Operation Cronos against LockBit
(three phases, 2024), the Evil Corp sanctions (2019 and October 2024), Europol's Operation Endgame
(May 2024), and INTERPOL's Synergia II and Serengeti (2024); three publicly attributed incidents
(WannaCry, NotPetya, the 2021 Microsoft Exchange compromise) with the attributing governments'
statements. The norm assessments and the member notes are **exercise** content written for the demo
(the demo organisations are fictional), labelled ``exercise``. A fictional server seizure by the police
shows the effect of a takedown on the task force's TLP:RED indicators.
"""

from __future__ import annotations

import uuid
from typing import Any

from accord.stix.extensions import DISRUPTION_EXTENSION_ID, INCIDENT_EXTENSION_ID, definitions

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://accord.example/demo/collective-action")
STAMP = "2026-11-20T12:00:00.000Z"
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
ASSESSOR = "Meridian National Cyber Centre (exercise)"
EXERCISE = "EXERCISE DATA - fictional, for the Accord demo; not real intelligence."

# Objects of the other demo files, by id.
LOCKBIT_ACTOR = "threat-actor--ecf4d7cb-9bf7-4d9d-8450-c99e885b9aac"  # MISP galaxy BITWISE SPIDER (LockBit)
LOCKBIT_MALWARE = "malware--8eda8bf1-db5a-412d-8511-45e2f7621d51"  # MISP galaxy LockBit
LOCKBIT3 = "malware--71fe9df1-1c6f-430c-ab9b-ff3c11074e52"  # ATT&CK S1202 LockBit 3.0
EVIL_CORP_ACTOR = "threat-actor--c30fbdc8-b66d-4242-a02a-e01946bc86d8"  # MISP galaxy Evil Corp
INDRIK_SPIDER = "intrusion-set--01e28736-2ffc-455b-9880-ed4d1407ae07"  # ATT&CK G0119
POLICE_INFRA = "infrastructure--9862954b-0c8b-5bf2-8956-b4b9c63154e6"  # exercise, TLP:RED, task force


def sid(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


def ref(name: str, url: str, description: str | None = None) -> dict[str, Any]:
    out = {"source_name": name, "url": url}
    if description:
        out["description"] = description
    return out


def _base(kind: str, key: str, marking: str = CLEAR) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": sid(kind, key), "created": STAMP, "modified": STAMP,
            "object_marking_refs": [marking]}  # fmt: skip


AGENCIES = {  # key: (name, country or None, description)
    "nca": ("National Crime Agency (UK)", "GB", "UK law-enforcement agency; led Operation Cronos."),
    "fbi": ("Federal Bureau of Investigation (US)", "US", "US federal law-enforcement agency."),
    "europol": ("Europol", None, "European Union Agency for Law Enforcement Cooperation."),
    "eurojust": ("Eurojust", None, "European Union Agency for Criminal Justice Cooperation."),
    "ofac": ("US Treasury, Office of Foreign Assets Control", "US", "Administers US sanctions."),
    "fcdo": ("Foreign, Commonwealth & Development Office (UK)", "GB", "UK sanctions and attribution statements."),
    "dfat": ("Department of Foreign Affairs and Trade (Australia)", "AU", "Australian autonomous cyber sanctions."),
    "interpol": ("INTERPOL", None, "International Criminal Police Organization."),
    "afripol": ("AFRIPOL", None, "African Union Mechanism for Police Cooperation."),
    "bka": ("Bundeskriminalamt (Germany)", "DE", "German federal criminal police."),
}


def agencies() -> list[dict[str, Any]]:
    out = []
    for key, (name, country, description) in AGENCIES.items():
        obj = {**_base("identity", key), "name": name, "identity_class": "organization", "description": description,
               "sectors": ["government-national" if country else "government-regional"]}  # fmt: skip
        if country:
            obj["x_accord_country"] = country
        out.append(obj)
    return out


def who(*keys: str) -> list[str]:
    return [sid("identity", k) for k in keys]


def action(key: str, name: str, description: str, types: list[str], date: str, sources: list[dict[str, Any]],
           **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {**_base("disruption-action", key), "name": name, "description": description, "action_types": types,
            "action_date": date, "status": "completed", "external_references": sources,
            "extensions": {DISRUPTION_EXTENSION_ID: {"extension_type": "new-sdo"}}, **extra}  # fmt: skip


def public_actions() -> list[dict[str, Any]]:
    cronos_sources = [
        ref("Europol", "https://www.europol.europa.eu/media-press/newsroom/news/law-enforcement-disrupt-worlds-biggest-ransomware-operation",
            "Law enforcement disrupt world's biggest ransomware operation (20 February 2024)"),
        ref("National Crime Agency", "https://www.nationalcrimeagency.gov.uk/news/nca-leads-international-investigation-targeting-worlds-most-harmful-ransomware-group",
            "NCA leads international investigation targeting world's most harmful ransomware group"),
    ]  # fmt: skip
    cronos_partners = ["US", "FR", "DE", "NL", "SE", "AU", "CA", "JP", "CH", "FI", "PL", "UA"]
    return [
        action(
            "cronos-1",
            "Operation Cronos - phase 1",
            "NCA-led takeover of LockBit's platform and leak site; "
            "servers taken down, affiliates arrested and indicted, cryptocurrency accounts frozen, decryption "
            "keys recovered.",
            ["takedown", "server-seizure", "arrest", "indictment", "decryptor-release"],
            "2024-02-20T00:00:00.000Z",
            cronos_sources,
            operation_name="Operation Cronos",
            operation_phase=1,
            lead_refs=who("nca"),
            partner_refs=who("fbi", "europol", "eurojust"),
            lead_countries=["GB"],
            partner_countries=cronos_partners,
            regions=["europe", "northern-america"],
            target_refs=[LOCKBIT_ACTOR, LOCKBIT_MALWARE, LOCKBIT3],
            outcomes={
                "servers": 34,
                "arrests": 2,
                "warrants": 3,
                "indictments": 5,
                "accounts": 200,
                "decryption_keys": 1000,
            },
        ),  # fmt: skip
        action(
            "cronos-2",
            "Operation Cronos - phase 2",
            "LockBit's administrator unmasked: trilateral sanctions "
            "(UK, US, Australia), a US indictment and a reward of up to USD 10 million; Europol disseminated some "
            "3,500 intelligence packages on LockBit victims to 33 countries; law enforcement holds over 2,500 "
            "decryption keys.",
            ["sanction", "indictment", "reward", "victim-notification"],
            "2024-05-07T00:00:00.000Z",
            [
                ref(
                    "Europol",
                    "https://europol.europa.eu/media-press/newsroom/news/new-measures-issued-against-lockbit",
                    "New measures issued against LockBit (7 May 2024)",
                )
            ],
            operation_name="Operation Cronos",
            operation_phase=2,
            lead_refs=who("nca", "fbi"),
            partner_refs=who("ofac", "fcdo", "dfat", "europol"),
            lead_countries=["GB", "US"],
            partner_countries=["AU"],
            regions=["europe", "northern-america", "australia-new-zealand"],
            target_refs=[LOCKBIT_ACTOR, LOCKBIT_MALWARE],
            legal_basis=[
                "Executive Order 13694, as amended (program CYBER2)",
                "The Cyber (Sanctions) (EU Exit) Regulations 2020",
            ],
            outcomes={
                "designations": 3,
                "indictments": 1,
                "decryption_keys": 2500,
                "rewards_offered": [
                    {"amount": 10000000, "currency": "USD", "description": "US Department of State reward offer"}
                ],
            },
            sanctions=[
                {"authority": "US-OFAC", "programs": ["CYBER2"], "designated_name": "KHOROSHEV, Dmitry Yuryevich"},
                {"authority": "GB-FCDO", "designated_name": "Dmitry Khoroshev"},
                {"authority": "AU-DFAT", "designated_name": "Dmitry Khoroshev"},
            ],
        ),  # fmt: skip
        action(
            "cronos-3",
            "Operation Cronos - phase 3",
            "Four arrests: a suspected LockBit developer at the "
            "request of France, two people in the UK, and the administrator of a bulletproof hosting service used "
            "by LockBit at Madrid airport; nine LockBit servers seized in Spain; announced with the Evil Corp "
            "sanctions.",
            ["arrest", "server-seizure"],
            "2024-10-01T00:00:00.000Z",
            [
                ref(
                    "Europol",
                    "https://www.europol.europa.eu/media-press/newsroom/news/lockbit-power-cut-four-new-arrests-and-financial-sanctions-against-affiliates",
                    "LockBit power cut: four new arrests and financial sanctions against affiliates (1 October 2024)",
                ),
            ],
            operation_name="Operation Cronos",
            operation_phase=3,
            lead_refs=who("nca", "fbi"),
            partner_refs=who("europol", "eurojust"),
            lead_countries=["GB", "US"],
            partner_countries=["FR", "ES", "AU"],
            regions=["europe"],
            target_refs=[LOCKBIT_ACTOR, LOCKBIT_MALWARE, EVIL_CORP_ACTOR],
            outcomes={"arrests": 4, "servers": 9},
        ),  # fmt: skip
        action(
            "evil-corp-2024-10",
            "Evil Corp sanctions (October 2024)",
            "Trilateral sanctions on members of Evil "
            "Corp, among them LockBit affiliate Aleksandr Ryzhenkov: 16 designations by the UK, 7 individuals "
            "and 2 entities by the US, and 3 individuals by Australia (announced on 2 October, Australian time); "
            "a US indictment of Ryzhenkov (BitPaymer ransomware) was unsealed the same day.",
            ["sanction", "indictment"],
            "2024-10-01T00:00:00.000Z",
            [
                ref(
                    "US Treasury",
                    "https://home.treasury.gov/news/press-releases/jy2623",
                    "Treasury Sanctions Members of the Russia-Based Cybercriminal Group Evil Corp in Tri-Lateral "
                    "Action with the United Kingdom and Australia (1 October 2024)",
                ),
                ref(
                    "UK government",
                    "https://www.gov.uk/government/news/"
                    "uk-sanctions-members-of-notorious-evil-corp-cyber-crime-gang-after-lammy-calls-out-putins-mafia-state",
                    "UK sanctions members of notorious Evil Corp cyber crime gang (1 October 2024)",
                ),
            ],
            lead_refs=who("fcdo", "ofac", "dfat"),
            lead_countries=["GB", "US", "AU"],
            regions=["europe", "northern-america", "australia-new-zealand"],
            target_refs=[EVIL_CORP_ACTOR, INDRIK_SPIDER, LOCKBIT_ACTOR],
            legal_basis=[
                "The Cyber (Sanctions) (EU Exit) Regulations 2020",
                "Executive Order 13694, as amended",
                "Autonomous Sanctions Act 2011 (Australia)",
            ],
            outcomes={"designations": 28, "indictments": 1},
            sanctions=[
                {"authority": "GB-FCDO", "designations_count": 16},
                {"authority": "US-OFAC", "programs": ["CYBER2"], "designations_count": 9},
                {"authority": "AU-DFAT", "designations_count": 3},
            ],
        ),  # fmt: skip
        action(
            "evil-corp-2019-12",
            "OFAC designation of Evil Corp (2019)",
            "US Treasury designation of Evil Corp, "
            "its leader Maksim Yakubets and associates (17 individuals and 7 entities); the Department of Justice "
            "charged Yakubets and Igor Turashev, and the State Department offered a reward of up to USD 5 million "
            "for information on Yakubets.",
            ["sanction", "indictment", "reward"],
            "2019-12-05T00:00:00.000Z",
            [
                ref(
                    "US Treasury",
                    "https://home.treasury.gov/news/press-releases/sm845",
                    "Treasury sanctions Evil Corp, the Russia-based cybercriminal group behind Dridex malware",
                )
            ],
            lead_refs=who("ofac", "fbi"),
            partner_refs=who("nca"),
            lead_countries=["US"],
            partner_countries=["GB"],
            regions=["northern-america"],
            target_refs=[EVIL_CORP_ACTOR, INDRIK_SPIDER],
            legal_basis=["Executive Order 13694, as amended by Executive Order 13757 (program CYBER2)"],
            outcomes={"rewards_offered": [{"amount": 5000000, "currency": "USD"}]},
            sanctions=[
                {
                    "authority": "US-OFAC",
                    "programs": ["CYBER2"],
                    "list_entry_id": "26664",
                    "designated_name": "EVIL CORP",
                },
                {
                    "authority": "US-OFAC",
                    "programs": ["CYBER2"],
                    "list_entry_id": "26663",
                    "designated_name": "YAKUBETS, Maksim Viktorovich",
                },
            ],
        ),  # fmt: skip
        action(
            "endgame-2024-05",
            "Operation Endgame",
            "Europol-coordinated action against dropper malware "
            "(IcedID, Smokeloader, Pikabot, Bumblebee, SystemBC, Trickbot): arrests, servers taken down, domains "
            "seized.",
            ["arrest", "takedown", "domain-seizure"],
            "2024-05-30T00:00:00.000Z",
            [
                ref(
                    "Europol",
                    "https://www.europol.europa.eu/media-press/newsroom/news/largest-ever-operation-against-botnets-hits-dropper-malware-ecosystem",
                    "Largest ever operation against botnets hits dropper malware ecosystem (30 May 2024)",
                )
            ],
            operation_name="Operation Endgame",
            lead_refs=who("europol", "bka"),
            partner_refs=who("eurojust", "fbi"),
            lead_countries=["DE", "NL", "FR"],
            partner_countries=["DK", "GB", "US"],
            regions=["europe"],
            outcomes={"arrests": 4, "servers": 100, "domains": 2000},
        ),  # fmt: skip
        action(
            "synergia-2",
            "Operation Synergia II",
            "INTERPOL operation against phishing, ransomware and "
            "information-stealer infrastructure in 95 countries (April to August 2024).",
            ["arrest", "takedown", "server-seizure"],
            "2024-11-05T00:00:00.000Z",
            [
                ref(
                    "INTERPOL",
                    "https://www.interpol.int/en/News-and-Events/News/2024/"
                    "INTERPOL-cyber-operation-takes-down-22-000-malicious-IP-addresses",
                    "INTERPOL cyber operation takes down 22,000 malicious IP addresses (5 November 2024)",
                )
            ],
            operation_name="Operation Synergia II",
            lead_refs=who("interpol"),
            regions=["global"],
            outcomes={"arrests": 41, "servers": 59, "countries_involved": 95},
        ),  # fmt: skip
        action(
            "serengeti-2024",
            "Operation Serengeti",
            "INTERPOL and AFRIPOL operation across 19 African "
            "countries against ransomware, business e-mail compromise, digital extortion and online scams "
            "(September to October 2024); 134,089 malicious infrastructures and networks dismantled.",
            ["arrest", "takedown"],
            "2024-11-26T00:00:00.000Z",
            [
                ref(
                    "INTERPOL",
                    "https://www.interpol.int/en/News-and-Events/News/2024/Major-cybercrime-operation-nets-1-006-suspects",
                    "Major cybercrime operation nets 1,006 suspects (26 November 2024)",
                )
            ],
            operation_name="Operation Serengeti",
            lead_refs=who("interpol", "afripol"),
            regions=["africa"],
            outcomes={"arrests": 1006, "networks_dismantled": 134089, "countries_involved": 19},
        ),  # fmt: skip
    ]


def _ext(**body: Any) -> dict[str, Any]:
    return {INCIDENT_EXTENSION_ID: {"extension_type": "property-extension", **body}}


def _assess(norm: str, assessment: str, state: str, rationale: str) -> dict[str, Any]:
    return {"norm": f"un-gge-2015-{norm}", "assessment": assessment, "state": state,
            "rationale": f"Exercise assessment: {rationale}", "assessor": ASSESSOR}  # fmt: skip


def incidents() -> list[dict[str, Any]]:
    wannacry = "https://trumpwhitehouse.archives.gov/briefings-statements/press-briefing-on-the-attribution-of-the-wannacry-malware-attack-to-north-korea-121917/"
    notpetya_uk = (
        "https://www.ncsc.gov.uk/news/russian-military-almost-certainly-responsible-destructive-2017-cyber-attack"
    )
    notpetya_us = "https://trumpwhitehouse.archives.gov/briefings-statements/statement-press-secretary-25/"
    exchange = "https://www.ncsc.gov.uk/news/uk-allies-hold-chinese-state-responsible-for-pervasive-pattern-of-hacking"
    wannacry_uk = (
        "https://www.gov.uk/government/news/foreign-office-minister-condemns-north-korean-actor-for-wannacry-attacks"
    )
    return [
        {
            **_base("incident", "wannacry"),
            "name": "WannaCry ransomware outbreak (May 2017)",
            "description": "Self-propagating ransomware that disrupted hospitals (among them the UK's NHS), "
            "companies and public services in some 150 countries.",
            "labels": ["exercise-assessment"],
            "external_references": [ref("The White House (archived)", wannacry), ref("UK government", wannacry_uk)],
            "extensions": _ext(
                victims=[{"name": "NHS trusts (UK)", "sectors": ["healthcare"], "countries": ["GB"]}],
                attributions=[
                    {
                        "attributed_by": "US",
                        "state": "KP",
                        "basis": ["political", "intelligence"],
                        "attributed_at": "2017-12-19T00:00:00.000Z",
                        "statement_url": wannacry,
                    },
                    {
                        "attributed_by": "GB",
                        "state": "KP",
                        "basis": ["political", "intelligence"],
                        "attributed_at": "2017-12-19T00:00:00.000Z",
                        "statement_url": wannacry_uk,
                    },
                ],
                norm_assessments=[
                    _assess("13f", "violated", "KP", "indiscriminate disruption of health services."),
                    _assess("13c", "implicated", "KP", "state responsibility asserted by the US and UK."),
                ],
            ),
        },  # fmt: skip
        {
            **_base("incident", "notpetya"),
            "name": "NotPetya destructive attack (June 2017)",
            "description": "Destructive malware disguised as ransomware, spread through a Ukrainian accounting "
            "software update; damaged Ukrainian infrastructure and companies worldwide.",
            "labels": ["exercise-assessment"],
            "external_references": [ref("NCSC", notpetya_uk), ref("The White House (archived)", notpetya_us)],
            "extensions": _ext(
                victims=[
                    {
                        "name": "Ukrainian government, energy and financial sectors",
                        "sectors": ["government", "energy", "financial-services"],
                        "countries": ["UA"],
                    }
                ],
                attributions=[
                    {
                        "attributed_by": "GB",
                        "state": "RU",
                        "basis": ["political", "intelligence"],
                        "confidence": 95,
                        "attributed_at": "2018-02-15T00:00:00.000Z",
                        "statement_url": notpetya_uk,
                        "description": "Russian military (GRU) 'almost certainly' responsible.",
                    },
                    {
                        "attributed_by": "US",
                        "state": "RU",
                        "basis": ["political"],
                        "attributed_at": "2018-02-15T00:00:00.000Z",
                        "statement_url": notpetya_us,
                    },
                ],
                norm_assessments=[
                    _assess("13f", "violated", "RU", "intentional damage to critical infrastructure."),
                    _assess("13i", "implicated", "RU", "compromise of a software supply chain."),
                ],
            ),
        },  # fmt: skip
        {
            **_base("incident", "exchange-2021"),
            "name": "Microsoft Exchange Server compromise (2021)",
            "description": "Mass exploitation of Microsoft Exchange Server vulnerabilities, exposing tens of thousands "
            "of organisations worldwide.",
            "labels": ["exercise-assessment"],
            "external_references": [ref("NCSC", exchange)],
            "extensions": _ext(
                attributions=[
                    {
                        "attributed_by": "GB",
                        "state": "CN",
                        "basis": ["political", "intelligence"],
                        "attributed_at": "2021-07-19T00:00:00.000Z",
                        "statement_url": exchange,
                        "description": "Announced together with the EU, the US and other partners.",
                    }
                ],
                norm_assessments=[
                    _assess(
                        "13j",
                        "implicated",
                        "CN",
                        "exploitation of vulnerabilities at scale before remedies could be applied.",
                    ),
                    _assess("13c", "implicated", "CN", "activity tolerated from the state's territory."),
                ],
            ),
        },  # fmt: skip
        {
            **_base("incident", "evil-corp-host-state"),
            "name": "Evil Corp operations tolerated by host state",
            "description": "Ransomware and banking-malware operations by Evil Corp. The US Treasury said in December "
            "2019 that its leader provided direct assistance to the Russian government's malicious cyber efforts; "
            "the UK linked the group to the Russian state in October 2024.",
            "labels": ["exercise-assessment"],
            "external_references": [
                ref(
                    "UK government",
                    "https://www.gov.uk/government/news/"
                    "uk-sanctions-members-of-notorious-evil-corp-cyber-crime-gang-after-lammy-calls-out-putins-mafia-state",
                ),
                ref("US Treasury", "https://home.treasury.gov/news/press-releases/sm845"),
            ],
            "extensions": _ext(
                attributions=[
                    {
                        "attributed_by": "GB",
                        "actor_ref": EVIL_CORP_ACTOR,
                        "state": "RU",
                        "basis": ["political", "legal"],
                        "attributed_at": "2024-10-01T00:00:00.000Z",
                    }
                ],
                responses=[
                    {
                        "response_type": "sanction",
                        "by": "GB, US, AU",
                        "date": "2024-10-01T00:00:00.000Z",
                        "action_ref": sid("disruption-action", "evil-corp-2024-10"),
                    },
                    {
                        "response_type": "sanction",
                        "by": "US",
                        "date": "2019-12-05T00:00:00.000Z",
                        "action_ref": sid("disruption-action", "evil-corp-2019-12"),
                    },
                ],
                norm_assessments=[
                    _assess(
                        "13c",
                        "implicated",
                        "RU",
                        "group operated from Russia with reported links to Russian intelligence services.",
                    ),
                    {
                        "norm": "un-gge-2015-13d",
                        "assessment": "invoked-by-response",
                        "rationale": "Exercise assessment: coordinated sanctions and indictments by GB, US, AU.",
                        "assessor": "Meridian National Cyber Centre (exercise)",
                    },
                ],
            ),
        },  # fmt: skip
    ]


def cert_note() -> dict[str, Any]:
    """CERT-Lowlands' own (exercise) view of NotPetya, shown beside the incident's, never merged into it."""
    return {**_base("note", "cert-lowlands-notpetya", GREEN), "abstract": "Exercise: CERT-Lowlands view of NotPetya",
            "content": EXERCISE, "object_refs": [sid("incident", "notpetya")], "labels": ["exercise"],
            "extensions": _ext(attributions=[{"attributed_by": "CERT-Lowlands (exercise)", "state": "RU",
                                              "basis": ["technical"], "confidence": 60,
                                              "attributed_at": "2026-11-20T00:00:00.000Z",
                                              "description": EXERCISE}])}  # fmt: skip


def police_seizure() -> dict[str, Any]:
    """A fictional seizure of the task force's TLP:RED affiliate server: its indicators expire."""
    return {**action("exercise-seizure", "Exercise: seizure of the LockBit affiliate staging server",
                     EXERCISE, ["server-seizure", "arrest"], "2026-11-15T00:00:00.000Z", [],
                     target_refs=[POLICE_INFRA], lead_countries=["GB"], regions=["europe"],
                     outcomes={"servers": 1, "arrests": 1}, labels=["exercise"]),
            "object_marking_refs": [RED]}  # fmt: skip


def files() -> dict[str, list[dict[str, Any]]]:
    """Data file name → objects."""
    public = [*definitions(), *agencies(), *public_actions(), *incidents()]
    return {
        "collective-action-public.json": public,
        "cert-lowlands-green-notpetya-note.json": [cert_note()],
        "police-red-exercise-seizure.json": [police_seizure()],
    }
