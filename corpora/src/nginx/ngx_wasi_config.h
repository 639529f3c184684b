
/*
 * nginx on wasm32-wasi (WASI preview 1, wasi-libc): the OS configuration header,
 * the counterpart of ngx_posix_config.h, selected by ngx_config.h when NGX_WASI
 * is set (configure-wasi sets it).
 *
 * WASI has no processes, signals, users, file modes, name resolution, and no
 * calls that create, bind, connect or configure sockets: a runtime hands over
 * sockets that already listen.  nginx's single-process mode needs none of that,
 * but its sources refer to all of it.  The second half of this file declares
 * what wasi-libc lacks; ngx_wasi.c implements it, mostly as calls that fail
 * with ENOSYS, so that the features needing it (master process, daemon, "user",
 * resolver, syslog, upstream connections) fail at run time with nginx's usual
 * "... failed (52: Function not implemented)" message instead of being
 * patched out one by one.
 */


#ifndef _NGX_WASI_CONFIG_H_INCLUDED_
#define _NGX_WASI_CONFIG_H_INCLUDED_


#include <sys/types.h>
#include <sys/time.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>             /* offsetof() */
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <signal.h>
#include <dirent.h>
#include <glob.h>
#include <time.h>
#include <sys/param.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>        /* TCP_NODELAY */
#include <arpa/inet.h>
#include <limits.h>             /* IOV_MAX */
#include <poll.h>


#ifndef IOV_MAX
#define IOV_MAX   16
#endif


#include <ngx_auto_config.h>


#define NGX_LISTEN_BACKLOG  511

#define ngx_debug_init()


extern char **environ;


/*
 * Sockets.  The listening sockets are inherited (see ngx_wasi.c), accepted
 * ones come from sock_accept; reading and writing works with wasi-libc's
 * recv(), send(), readv() and writev().  Everything else fails with ENOSYS;
 * setsockopt() fails with ENOPROTOOPT.
 */

#define accept(s, addr, len)         ngx_wasi_accept4(s, addr, len, 0)
#define accept4(s, addr, len, flags) ngx_wasi_accept4(s, addr, len, flags)

int ngx_wasi_accept4(int s, struct sockaddr *addr, socklen_t *len, int flags);

int socket(int domain, int type, int protocol);
int socketpair(int domain, int type, int protocol, int sv[2]);
int bind(int s, const struct sockaddr *addr, socklen_t len);
int connect(int s, const struct sockaddr *addr, socklen_t len);
int listen(int s, int backlog);
int getsockname(int s, struct sockaddr *addr, socklen_t *len);
int setsockopt(int s, int level, int name, const void *value, socklen_t len);
ssize_t sendto(int s, const void *buf, size_t len, int flags,
    const struct sockaddr *addr, socklen_t addrlen);
ssize_t sendmsg(int s, const struct msghdr *msg, int flags);
ssize_t recvmsg(int s, struct msghdr *msg, int flags);

/* wasi-libc defines SO_TYPE only; these are musl's values */
#ifndef SO_REUSEADDR
#define SO_REUSEADDR  2
#define SO_ERROR      4
#define SO_SNDBUF     7
#define SO_RCVBUF     8
#define SO_KEEPALIVE  9
#define SO_LINGER     13
#define SO_SNDLOWAT   19
#endif

#ifndef EHOSTDOWN
#define EHOSTDOWN     EHOSTUNREACH
#endif

#define FIOASYNC      0x5452


/* name resolution: no <netdb.h> */

struct hostent {
    char   *h_name;
    char  **h_aliases;
    int     h_addrtype;
    int     h_length;
    char  **h_addr_list;
};

struct hostent *gethostbyname(const char *name);


/* processes, users and file modes: no <sys/wait.h>, <pwd.h>, <grp.h> */

#define WNOHANG          1
#define WEXITSTATUS(s)   (((s) & 0xff00) >> 8)
#define WTERMSIG(s)      ((s) & 0x7f)
#define WIFEXITED(s)     (!WTERMSIG(s))
#define WCOREDUMP(s)     ((s) & 0x80)

struct passwd {
    char   *pw_name;
    char   *pw_passwd;
    uid_t   pw_uid;
    gid_t   pw_gid;
    char   *pw_gecos;
    char   *pw_dir;
    char   *pw_shell;
};

struct group {
    char   *gr_name;
    char   *gr_passwd;
    gid_t   gr_gid;
    char  **gr_mem;
};

typedef unsigned long long  rlim_t;

struct rlimit {
    rlim_t  rlim_cur;
    rlim_t  rlim_max;
};

#define RLIMIT_CORE   4
#define RLIMIT_NOFILE 7
#define PRIO_PROCESS  0

int getrlimit(int resource, struct rlimit *rlim);
int setrlimit(int resource, const struct rlimit *rlim);
int setpriority(int which, id_t who, int prio);

pid_t fork(void);
int execve(const char *path, char *const argv[], char *const envp[]);
pid_t waitpid(pid_t pid, int *status, int options);
pid_t setsid(void);
pid_t getppid(void);
int dup2(int fd, int fd2);
uid_t getuid(void);
uid_t geteuid(void);
int setuid(uid_t uid);
int setgid(gid_t gid);
int initgroups(const char *user, gid_t group);
struct passwd *getpwnam(const char *name);
struct group *getgrnam(const char *name);
int chown(const char *path, uid_t owner, gid_t group);
int chmod(const char *path, mode_t mode);
mode_t umask(mode_t mask);
int getpagesize(void);
char *realpath(const char *path, char *resolved);

#define F_SETOWN      8
#define F_SETLK       6
#define F_SETLKW      7
#define F_RDLCK       0
#define F_WRLCK       1
#define F_UNLCK       2


/* signals: wasi-libc has signal() and raise() only; nothing is ever delivered */

typedef struct {
    int    si_signo;
    int    si_errno;
    int    si_code;
    pid_t  si_pid;
} siginfo_t;

struct sigaction {
    union {
        void (*sa_handler)(int);
        void (*sa_sigaction)(int, siginfo_t *, void *);
    } __sa_handler;
    sigset_t  sa_mask;
    int       sa_flags;
};

#define sa_handler    __sa_handler.sa_handler
#define sa_sigaction  __sa_handler.sa_sigaction

#define SA_SIGINFO    4
#define SIG_BLOCK     0
#define SIG_UNBLOCK   1
#define SIG_SETMASK   2

int sigaction(int sig, const struct sigaction *act, struct sigaction *oact);
int sigemptyset(sigset_t *set);
int sigaddset(sigset_t *set, int sig);
int sigprocmask(int how, const sigset_t *set, sigset_t *oset);
int sigsuspend(const sigset_t *set);
int kill(pid_t pid, int sig);

#define ITIMER_REAL   0

struct itimerval {
    struct timeval  it_interval;
    struct timeval  it_value;
};

int setitimer(int which, const struct itimerval *value,
    struct itimerval *ovalue);


#endif /* _NGX_WASI_CONFIG_H_INCLUDED_ */
