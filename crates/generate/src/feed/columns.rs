//! The kinds of generated columns: how each published column's value is made.

/// How one column's value is made.
#[derive(Copy, Clone, Debug, PartialEq)]
pub(crate) enum Col {
    /// Left empty, as Shadowserver leaves most optional columns.
    Empty,
    Fixed(&'static str),
    Timestamp,
    Severity,
    Tag,
    Ip,
    Protocol,
    /// The service port of the report.
    Port,
    /// The infected host's ephemeral port (sinkhole reports).
    SrcPort,
    Hostname,
    HostnameSource,
    Asn,
    Geo,
    Region,
    City,
    Naics,
    Sector,
    ResponseSize,
    Amplification,
    /// NTP monlist: packets of the response.
    Packets,
    /// One entry of a table, the same for every row of a host (second field: a salt).
    HostPick(&'static [&'static str], u64),
    /// One entry of a table per row.
    RowPick(&'static [&'static str]),
    /// Uniform integer per row.
    Int(u64, u64),
    /// Uniform integer per host (with a salt).
    HostInt(u64, u64, u64),
    /// Uniform per row, 4 decimals.
    Float(f64, f64),
    /// NTP timestamp in hex (`0xE6C5A1B2.3F5A1C00`) near the row's time.
    NtpStamp,
    /// Seconds since boot.
    Uptime,
    /// The row's time as Unix seconds.
    UnixTime,
    MacAddress,
    /// SSDP `uuid:...::upnp:rootdevice`.
    Usn,
    Device(Device),
    DstIp,
    DstPort,
    DstAsn,
    DstGeo,
    DstRegion,
    DstCity,
    Infection,
    MalwareFamily,
    Application,
    SslCipher,
    SslServerName,
}

/// A field of the host's device (one entry of [`super::tables::DEVICES`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Device {
    Vendor,
    Type,
    Model,
    SysName,
    SysDesc,
}

impl Col {
    /// Whether IntelMQ carries the value as a JSON number.
    pub(crate) fn is_number(self) -> bool {
        matches!(
            self,
            Col::Port
                | Col::SrcPort
                | Col::Asn
                | Col::Naics
                | Col::ResponseSize
                | Col::Amplification
                | Col::Packets
                | Col::Int(..)
                | Col::HostInt(..)
                | Col::Float(..)
                | Col::Uptime
                | Col::UnixTime
                | Col::DstPort
                | Col::DstAsn
        )
    }
}
