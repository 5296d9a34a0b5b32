//! Value tables: real software banners, devices and places as they appear in reports.

pub(crate) const DNS_VERSIONS: &[&str] = &[
    "",
    "",
    "dnsmasq-2.80",
    "dnsmasq-2.85",
    "dnsmasq-2.78",
    "9.11.4-P2-RedHat-9.11.4-26.P2.el7_9.16",
    "9.16.1-Ubuntu",
    "9.18.18-0ubuntu0.22.04.2-Ubuntu",
    "unbound 1.9.0",
    "unbound 1.13.1",
    "PowerDNS Recursor 4.1.11",
    "Microsoft DNS 6.1.7601 (1DB15D39)",
    "RouterOS",
    "huawei",
    "none",
];
pub(crate) const NTPD_VERSIONS: &[&str] = &[
    "ntpd 4.2.6p5@1.2349-o Fri Apr 13 12:52:27 UTC 2018 (1)",
    "ntpd 4.2.8p10@1.3728-o Wed Mar 13 2019 (1)",
    "ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)",
    "ntpd 4.2.4p8@1.1612-o Tue Nov 29 00:09:12 UTC 2011 (1)",
    "4",
];
pub(crate) const NTP_PROCESSORS: &[&str] = &[
    "x86_64", "x86_64", "i686", "mips", "armv7l", "aarch64", "unknown",
];
pub(crate) const NTP_REFIDS: &[&str] = &[
    "GPS",
    "PPS",
    "LOCL",
    "INIT",
    "10.0.0.1",
    "192.168.1.1",
    "129.6.15.28",
];
pub(crate) const NTP_SYSTEMS: &[&str] = &[
    "Linux/3.10.0-1160.el7.x86_64",
    "Linux/2.6.32-754.el6.x86_64",
    "Linux",
    "UNIX",
    "cisco",
    "FreeBSD/12.2-RELEASE-p4",
    "JUNOS",
];
pub(crate) const SSDP_CACHE_CONTROL: &[&str] =
    &["max-age=1800", "max-age=120", "max-age=100", "max-age=3600"];
pub(crate) const SSDP_LOCATIONS: &[&str] = &[
    "http://192.168.1.1:1900/rootDesc.xml",
    "http://192.168.0.1:49152/gatedesc.xml",
    "http://192.168.1.254:5000/rootDesc.xml",
    "http://10.0.0.138:80/description.xml",
    "http://192.168.1.1:52869/picsdesc.xml",
];
/// Server banners, commas included (as real ones are: the CSV must quote them).
pub(crate) const SSDP_SERVERS: &[&str] = &[
    "Linux/2.6.36, UPnP/1.0, Portable SDK for UPnP devices/1.6.18",
    "Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0",
    "Custom/1.0 UPnP/1.0 Proc/Ver",
    "miniupnpd/1.0 UPnP/1.0",
    "Linux UPnP/1.0 Sonos/63.2-88230 (ZPS9)",
    "OS 1.0 UPnP/1.0 Realtek/V1.3",
    "Linux/2.4.22-1.2115.nptl UPnP/1.0 miniupnpd/1.0",
];
/// (vendor, type, model, sysname, sysdesc); sysdesc strings carry commas and quotes.
pub(crate) const DEVICES: &[(&str, &str, &str, &str, &str)] = &[
    ("Cisco", "router", "C800", "router", "Cisco IOS Software, C800 Software (C800-UNIVERSALK9-M), Version 15.4(3)M, RELEASE SOFTWARE (fc1)"),
    ("MikroTik", "router", "RB951Ui-2HnD", "MikroTik", "RouterOS RB951Ui-2HnD"),
    ("Huawei", "router", "AR2220", "HUAWEI", "Huawei Versatile Routing Platform Software, VRP (R) software, Version 5.170 (AR2220 V200R009C00SPC500)"),
    ("Ubiquiti", "access point", "", "UBNT", "Linux 2.6.32.71 #1 Fri Feb 4 09:12:40 UTC 2022 mips"),
    ("HP", "printer", "", "NPI1A2B3C", "HP ETHERNET MULTI-ENVIRONMENT,ROM none,JETDIRECT,JD153,EEPROM JSI23500013"),
    ("", "", "", "", "Linux \"edge\" 4.14.180 #1 SMP PREEMPT armv7l"),
    ("ZyXEL", "router", "", "ZyXEL", "ZyXEL VMG1312-B10D, firmware V5.13(AAXA.8)C0"),
    ("", "", "", "", ""),
];
pub(crate) const MEMCACHED_VERSIONS: &[&str] =
    &["1.4.15", "1.4.25", "1.5.6", "1.5.22", "1.6.9", "1.6.14"];
/// (infection, family) as sinkhole reports name them.
pub(crate) const INFECTIONS: &[(&str, &str)] = &[
    ("mirai", "mirai"),
    ("mirai", "mirai"),
    ("andromeda", "andromeda"),
    ("avalanche-andromeda", "andromeda"),
    ("necurs", "necurs"),
    ("qsnatch", "qsnatch"),
    ("ramnit", "ramnit"),
    ("conficker", "conficker"),
    ("sality", "sality"),
    ("gamut", "gamut"),
];
pub(crate) const SSL_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "AES256-SHA",
];
/// (NAICS code, sector); 0 and "" when Shadowserver has none (most rows).
pub(crate) const SECTORS: &[(u32, &str)] = &[
    (0, ""),
    (0, ""),
    (0, ""),
    (0, ""),
    (517311, "Communications, Service Provider, and Hosting"),
    (518210, "Communications, Service Provider, and Hosting"),
    (611310, "Education"),
    (921110, "Government"),
    (622110, "Healthcare"),
    (522110, "Banking, Finance, and Insurance"),
];
/// Reverse-DNS styles: prefix before the dashed address, and the label after it.
pub(crate) const HOSTNAME_STYLES: &[(&str, &str)] = &[
    ("static-", "static"),
    ("ip", "dyn"),
    ("host-", "cust"),
    ("", "broadband"),
];
/// (country, [(region, city)]) in Shadowserver's upper case.
pub(crate) const PLACES: &[(&str, &[(&str, &str)])] = &[
    (
        "US",
        &[
            ("CALIFORNIA", "LOS ANGELES"),
            ("TEXAS", "DALLAS"),
            ("VIRGINIA", "ASHBURN"),
            ("NEW YORK", "NEW YORK CITY"),
        ],
    ),
    (
        "CN",
        &[
            ("GUANGDONG", "GUANGZHOU"),
            ("BEIJING", "BEIJING"),
            ("ZHEJIANG", "HANGZHOU"),
        ],
    ),
    (
        "BR",
        &[
            ("SAO PAULO", "SAO PAULO"),
            ("RIO DE JANEIRO", "RIO DE JANEIRO"),
        ],
    ),
    (
        "IN",
        &[("MAHARASHTRA", "MUMBAI"), ("KARNATAKA", "BENGALURU")],
    ),
    (
        "DE",
        &[("HESSEN", "FRANKFURT AM MAIN"), ("BAYERN", "MUNCHEN")],
    ),
    (
        "RU",
        &[
            ("MOSKVA", "MOSCOW"),
            ("SANKT-PETERBURG", "SAINT PETERSBURG"),
        ],
    ),
    ("JP", &[("TOKYO", "TOKYO"), ("OSAKA", "OSAKA")]),
    ("KR", &[("SEOUL", "SEOUL"), ("GYEONGGI-DO", "SEONGNAM-SI")]),
    (
        "FR",
        &[("ILE-DE-FRANCE", "PARIS"), ("AUVERGNE-RHONE-ALPES", "LYON")],
    ),
    ("GB", &[("ENGLAND", "LONDON"), ("SCOTLAND", "EDINBURGH")]),
    ("IT", &[("LOMBARDIA", "MILAN"), ("LAZIO", "ROME")]),
    (
        "VN",
        &[("HA NOI", "HANOI"), ("HO CHI MINH", "HO CHI MINH CITY")],
    ),
    ("ID", &[("JAKARTA RAYA", "JAKARTA")]),
    ("TW", &[("TAIPEI", "TAIPEI")]),
    ("NL", &[("NOORD-HOLLAND", "AMSTERDAM")]),
    ("MX", &[("CIUDAD DE MEXICO", "MEXICO CITY")]),
];
/// What a disagreeing feed says instead: other countries and ASNs.
pub(crate) const OTHER_COUNTRIES: &[&str] =
    &["US", "CN", "BR", "DE", "RU", "NL", "FR", "GB", "JP", "SG"];
pub(crate) const OTHER_ASNS: &[u32] = &[
    4134, 4837, 3320, 7922, 16509, 14061, 24940, 9808, 4766, 3462,
];
