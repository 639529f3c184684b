//! WASI error numbers and their translation from host (Linux) `errno` values.
//!
//! WASI numbers its errors alphabetically (`2big` = 1 ... `notcapable` = 76), which shares
//! nothing with Linux's numbering, so every host error goes through [`Errno::from_host`].

/// A WASI `errno` value (the result of nearly every `wasi_snapshot_preview1` call).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum Errno {
    Success = 0,
    TooBig = 1,
    Acces = 2,
    AddrInUse = 3,
    AddrNotAvail = 4,
    AfNoSupport = 5,
    Again = 6,
    Already = 7,
    Badf = 8,
    BadMsg = 9,
    Busy = 10,
    Canceled = 11,
    Child = 12,
    ConnAborted = 13,
    ConnRefused = 14,
    ConnReset = 15,
    Deadlk = 16,
    DestAddrReq = 17,
    Dom = 18,
    Dquot = 19,
    Exist = 20,
    Fault = 21,
    Fbig = 22,
    HostUnreach = 23,
    Idrm = 24,
    Ilseq = 25,
    InProgress = 26,
    Intr = 27,
    Inval = 28,
    Io = 29,
    IsConn = 30,
    IsDir = 31,
    Loop = 32,
    Mfile = 33,
    Mlink = 34,
    MsgSize = 35,
    Multihop = 36,
    NameTooLong = 37,
    NetDown = 38,
    NetReset = 39,
    NetUnreach = 40,
    Nfile = 41,
    NoBufs = 42,
    NoDev = 43,
    NoEnt = 44,
    NoExec = 45,
    NoLck = 46,
    NoLink = 47,
    NoMem = 48,
    NoMsg = 49,
    NoProtoOpt = 50,
    NoSpc = 51,
    NoSys = 52,
    NotConn = 53,
    NotDir = 54,
    NotEmpty = 55,
    NotRecoverable = 56,
    NotSock = 57,
    NotSup = 58,
    NoTty = 59,
    Nxio = 60,
    Overflow = 61,
    OwnerDead = 62,
    Perm = 63,
    Pipe = 64,
    Proto = 65,
    ProtoNoSupport = 66,
    ProtoType = 67,
    Range = 68,
    Rofs = 69,
    Spipe = 70,
    Srch = 71,
    Stale = 72,
    TimedOut = 73,
    TxtBsy = 74,
    Xdev = 75,
    NotCapable = 76,
}

impl Errno {
    /// The WASI error for a Linux `errno` value; unknown values become `EIO`.
    pub(crate) fn from_host(code: i32) -> Errno {
        match code {
            0 => Errno::Success,
            libc::E2BIG => Errno::TooBig,
            libc::EACCES => Errno::Acces,
            libc::EADDRINUSE => Errno::AddrInUse,
            libc::EADDRNOTAVAIL => Errno::AddrNotAvail,
            libc::EAFNOSUPPORT => Errno::AfNoSupport,
            libc::EAGAIN => Errno::Again,
            libc::EALREADY => Errno::Already,
            libc::EBADF => Errno::Badf,
            libc::EBADMSG => Errno::BadMsg,
            libc::EBUSY => Errno::Busy,
            libc::ECANCELED => Errno::Canceled,
            libc::ECHILD => Errno::Child,
            libc::ECONNABORTED => Errno::ConnAborted,
            libc::ECONNREFUSED => Errno::ConnRefused,
            libc::ECONNRESET => Errno::ConnReset,
            libc::EDEADLK => Errno::Deadlk,
            libc::EDESTADDRREQ => Errno::DestAddrReq,
            libc::EDOM => Errno::Dom,
            libc::EDQUOT => Errno::Dquot,
            libc::EEXIST => Errno::Exist,
            libc::EFAULT => Errno::Fault,
            libc::EFBIG => Errno::Fbig,
            libc::EHOSTUNREACH => Errno::HostUnreach,
            libc::EIDRM => Errno::Idrm,
            libc::EILSEQ => Errno::Ilseq,
            libc::EINPROGRESS => Errno::InProgress,
            libc::EINTR => Errno::Intr,
            libc::EINVAL => Errno::Inval,
            libc::EIO => Errno::Io,
            libc::EISCONN => Errno::IsConn,
            libc::EISDIR => Errno::IsDir,
            libc::ELOOP => Errno::Loop,
            libc::EMFILE => Errno::Mfile,
            libc::EMLINK => Errno::Mlink,
            libc::EMSGSIZE => Errno::MsgSize,
            libc::EMULTIHOP => Errno::Multihop,
            libc::ENAMETOOLONG => Errno::NameTooLong,
            libc::ENETDOWN => Errno::NetDown,
            libc::ENETRESET => Errno::NetReset,
            libc::ENETUNREACH => Errno::NetUnreach,
            libc::ENFILE => Errno::Nfile,
            libc::ENOBUFS => Errno::NoBufs,
            libc::ENODEV => Errno::NoDev,
            libc::ENOENT => Errno::NoEnt,
            libc::ENOEXEC => Errno::NoExec,
            libc::ENOLCK => Errno::NoLck,
            libc::ENOLINK => Errno::NoLink,
            libc::ENOMEM => Errno::NoMem,
            libc::ENOMSG => Errno::NoMsg,
            libc::ENOPROTOOPT => Errno::NoProtoOpt,
            libc::ENOSPC => Errno::NoSpc,
            libc::ENOSYS => Errno::NoSys,
            libc::ENOTCONN => Errno::NotConn,
            libc::ENOTDIR => Errno::NotDir,
            libc::ENOTEMPTY => Errno::NotEmpty,
            libc::ENOTRECOVERABLE => Errno::NotRecoverable,
            libc::ENOTSOCK => Errno::NotSock,
            // Linux's EOPNOTSUPP has the same value.
            libc::ENOTSUP => Errno::NotSup,
            libc::ENOTTY => Errno::NoTty,
            libc::ENXIO => Errno::Nxio,
            libc::EOVERFLOW => Errno::Overflow,
            libc::EOWNERDEAD => Errno::OwnerDead,
            libc::EPERM => Errno::Perm,
            libc::EPIPE => Errno::Pipe,
            libc::EPROTO => Errno::Proto,
            libc::EPROTONOSUPPORT => Errno::ProtoNoSupport,
            libc::EPROTOTYPE => Errno::ProtoType,
            libc::ERANGE => Errno::Range,
            libc::EROFS => Errno::Rofs,
            libc::ESPIPE => Errno::Spipe,
            libc::ESRCH => Errno::Srch,
            libc::ESTALE => Errno::Stale,
            libc::ETIMEDOUT => Errno::TimedOut,
            libc::ETXTBSY => Errno::TxtBsy,
            libc::EXDEV => Errno::Xdev,
            _ => Errno::Io,
        }
    }

    /// The error of the last failed libc call on this thread.
    pub(crate) fn last() -> Errno {
        Errno::from_host(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }
}

/// Result of a WASI call's body: `Err` is the errno returned to the guest.
pub(crate) type WasiResult<T> = Result<T, Errno>;

#[cfg(test)]
mod tests {
    use super::Errno;

    #[test]
    fn host_errors_map_to_wasi_numbers() {
        assert_eq!(Errno::from_host(libc::ENOENT) as u16, 44);
        assert_eq!(Errno::from_host(libc::EBADF) as u16, 8);
        assert_eq!(Errno::from_host(libc::ENOTEMPTY) as u16, 55);
        assert_eq!(Errno::from_host(libc::EEXIST) as u16, 20);
        assert_eq!(Errno::from_host(libc::EXDEV) as u16, 75);
        assert_eq!(Errno::from_host(libc::EOPNOTSUPP) as u16, 58);
        assert_eq!(Errno::from_host(libc::EWOULDBLOCK) as u16, 6);
        assert_eq!(Errno::NotCapable as u16, 76);
    }
}
