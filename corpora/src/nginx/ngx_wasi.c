
/*
 * nginx on wasm32-wasi (WASI preview 1): what the single nginx process needs
 * from the runtime and wasi-libc cannot give.
 *
 * 1. Listening sockets are inherited: the runtime passes already bound and
 *    listening TCP sockets as file descriptors (wasmtime's --tcplisten puts
 *    them at 3, 4, ..., before the preopened directories).
 *    ngx_open_listening_sockets() below replaces the one in ngx_connection.c
 *    (the patch compiles that one out): instead of socket(), bind() and
 *    listen() it gives every listening socket nginx set up from the
 *    configuration, in nginx's order, the next inherited stream socket,
 *    scanning the descriptors from 3 and skipping the directories.
 *
 * 2. Preopened directories after those sockets are registered with wasi-libc:
 *    its own scan stops at the first descriptor that fd_prestat_get() answers
 *    with EBADF, which is what a socket answers.
 *
 * 3. Connections are accepted with sock_accept; the peer's address is unknown
 *    (there is no getpeername()), so every client is 0.0.0.0:0.
 *
 * 4. "Shared" memory is ordinary memory: there is only one process.
 *
 * 5. The libc functions declared at the end of ngx_wasi_config.h: those that
 *    nginx calls in single-process mode succeed trivially (there is only one
 *    process, no user, no signal delivery), all others fail with ENOSYS.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_channel.h>

#include <wasi/api.h>
#include <wasi/libc.h>


#define NGX_WASI_FIRST_FD  3

/* WASI has no users; nginx sees an unprivileged user, as if started by nobody */
#define NGX_WASI_UID       65534

/* RLIMIT_NOFILE: poll() needs file descriptors below cycle->files_n */
#define NGX_WASI_NOFILE    65536


static ngx_socket_t ngx_wasi_next_socket(ngx_socket_t fd);
static void ngx_wasi_register_preopens(void) __attribute__((constructor));


ngx_int_t
ngx_open_listening_sockets(ngx_cycle_t *cycle)
{
    ngx_uint_t        i;
    ngx_socket_t      fd;
    ngx_listening_t  *ls;

    if (ngx_test_config) {
        /* the runtime binds and listens: there is nothing to test here */
        return NGX_OK;
    }

    fd = NGX_WASI_FIRST_FD - 1;

    ls = cycle->listening.elts;
    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].ignore || ls[i].fd != (ngx_socket_t) -1) {
            continue;
        }

        fd = ngx_wasi_next_socket(fd + 1);

        if (ls[i].type != SOCK_STREAM || fd == (ngx_socket_t) -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "no inherited listening socket for %V: "
                          "the WASI runtime must pass one listening TCP "
                          "socket per \"listen\" address, in order "
                          "(e.g. wasmtime --tcplisten)", &ls[i].addr_text);
            return NGX_ERROR;
        }

        if (ngx_nonblocking(fd) == -1) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_socket_errno,
                          ngx_nonblocking_n " %V failed", &ls[i].addr_text);
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "listening on %V: inherited socket %d",
                      &ls[i].addr_text, fd);

        /*
         * ls[i].listen stays 0: the backlog is the runtime's, and
         * ngx_configure_listening_sockets() must not call listen()
         */

        ls[i].fd = fd;
    }

    while ((fd = ngx_wasi_next_socket(fd + 1)) != (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "inherited socket %d is not used by any \"listen\"",
                      fd);
    }

    return NGX_OK;
}


/* the first stream socket from fd on, or -1 at the end of the descriptors */

static ngx_socket_t
ngx_wasi_next_socket(ngx_socket_t fd)
{
    __wasi_fdstat_t  st;

    for ( /* void */ ; __wasi_fd_fdstat_get(fd, &st) == 0; fd++) {

        if (st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM) {
            return fd;
        }
    }

    return (ngx_socket_t) -1;
}


static void
ngx_wasi_register_preopens(void)
{
    char              *name;
    __wasi_fd_t        fd;
    __wasi_fdstat_t    st;
    __wasi_prestat_t   prestat;

    /* wasi-libc has registered the directories up to here */

    for (fd = NGX_WASI_FIRST_FD;
         __wasi_fd_prestat_get(fd, &prestat) != __WASI_ERRNO_BADF;
         fd++)
    {
        /* void */
    }

    for ( /* void */ ; __wasi_fd_fdstat_get(fd, &st) == 0; fd++) {

        if (__wasi_fd_prestat_get(fd, &prestat) != 0
            || prestat.tag != __WASI_PREOPENTYPE_DIR)
        {
            continue;
        }

        name = malloc(prestat.u.dir.pr_name_len + 1);
        if (name == NULL) {
            continue;
        }

        if (__wasi_fd_prestat_dir_name(fd, (uint8_t *) name,
                                       prestat.u.dir.pr_name_len)
            == 0)
        {
            name[prestat.u.dir.pr_name_len] = '\0';
            (void) __wasilibc_register_preopened_fd(fd, name);
        }

        free(name);
    }
}


int
ngx_wasi_accept4(int s, struct sockaddr *addr, socklen_t *len, int flags)
{
    __wasi_fd_t          fd;
    __wasi_errno_t       err;
    __wasi_fdflags_t     fdflags;
    struct sockaddr_in   sin;

    fdflags = (flags & SOCK_NONBLOCK) ? __WASI_FDFLAGS_NONBLOCK : 0;

    err = __wasi_sock_accept(s, fdflags, &fd);
    if (err != 0) {
        errno = err;
        return -1;
    }

    if (addr != NULL && len != NULL) {
        ngx_memzero(&sin, sizeof(struct sockaddr_in));
        sin.sin_family = AF_INET;

        ngx_memcpy(addr, &sin, ngx_min(*len, sizeof(struct sockaddr_in)));
        *len = sizeof(struct sockaddr_in);
    }

    return fd;
}


ngx_int_t
ngx_shm_alloc(ngx_shm_t *shm)
{
    shm->addr = ngx_memalign(ngx_pagesize, shm->size, shm->log);
    if (shm->addr == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(shm->addr, shm->size);

    return NGX_OK;
}


void
ngx_shm_free(ngx_shm_t *shm)
{
    ngx_free(shm->addr);
}


/* channels connect the master process with workers: there are none */

ngx_int_t
ngx_write_channel(ngx_socket_t s, ngx_channel_t *ch, size_t size,
    ngx_log_t *log)
{
    ngx_log_error(NGX_LOG_ALERT, log, NGX_ENOSYS, "sendmsg() failed");
    return NGX_ERROR;
}


ngx_int_t
ngx_read_channel(ngx_socket_t s, ngx_channel_t *ch, size_t size,
    ngx_log_t *log)
{
    ngx_log_error(NGX_LOG_ALERT, log, NGX_ENOSYS, "recvmsg() failed");
    return NGX_ERROR;
}


ngx_int_t
ngx_add_channel_event(ngx_cycle_t *cycle, ngx_fd_t fd, ngx_int_t event,
    ngx_event_handler_pt handler)
{
    return NGX_ERROR;
}


void
ngx_close_channel(ngx_fd_t *fd, ngx_log_t *log)
{
    if (close(fd[0]) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "close() channel failed");
    }

    if (close(fd[1]) == -1) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno, "close() channel failed");
    }
}


/* what single-process nginx calls: these succeed */

uid_t
getuid(void)
{
    return NGX_WASI_UID;
}


uid_t
geteuid(void)
{
    return NGX_WASI_UID;
}


int
gethostname(char *name, size_t len)
{
    /* $hostname; WASI has no host name */
    ngx_cpystrn((u_char *) name, (u_char *) "localhost", len);
    return 0;
}


pid_t
getppid(void)
{
    return 1;
}


int
getpagesize(void)
{
    /* the page size nginx sizes its pools with, not wasm's 64K page */
    return 4096;
}


int
getrlimit(int resource, struct rlimit *rlim)
{
    switch (resource) {

    case RLIMIT_NOFILE:
        rlim->rlim_cur = NGX_WASI_NOFILE;
        rlim->rlim_max = NGX_WASI_NOFILE;
        return 0;

    case RLIMIT_CORE:
        rlim->rlim_cur = 0;
        rlim->rlim_max = 0;
        return 0;

    default:
        errno = EINVAL;
        return -1;
    }
}


mode_t
umask(mode_t mask)
{
    return 0022;
}


int
sigaction(int sig, const struct sigaction *act, struct sigaction *oact)
{
    /* a handler can be set, but no signal is ever delivered */

    if (oact != NULL) {
        ngx_memzero(oact, sizeof(struct sigaction));
    }

    return 0;
}


int
sigemptyset(sigset_t *set)
{
    *set = 0;
    return 0;
}


int
sigaddset(sigset_t *set, int sig)
{
    return 0;
}


int
sigprocmask(int how, const sigset_t *set, sigset_t *oset)
{
    if (oset != NULL) {
        *oset = 0;
    }

    return 0;
}


/* what WASI preview 1 cannot do */

#define ngx_wasi_enosys()                                                     \
    errno = ENOSYS;                                                           \
    return -1


int socket(int domain, int type, int protocol) { ngx_wasi_enosys(); }
int socketpair(int domain, int type, int protocol, int sv[2])
    { ngx_wasi_enosys(); }
int bind(int s, const struct sockaddr *addr, socklen_t len)
    { ngx_wasi_enosys(); }
int connect(int s, const struct sockaddr *addr, socklen_t len)
    { ngx_wasi_enosys(); }
int listen(int s, int backlog) { ngx_wasi_enosys(); }
int getsockname(int s, struct sockaddr *addr, socklen_t *len)
    { ngx_wasi_enosys(); }
ssize_t sendto(int s, const void *buf, size_t len, int flags,
    const struct sockaddr *addr, socklen_t addrlen) { ngx_wasi_enosys(); }
ssize_t sendmsg(int s, const struct msghdr *msg, int flags)
    { ngx_wasi_enosys(); }
ssize_t recvmsg(int s, struct msghdr *msg, int flags) { ngx_wasi_enosys(); }

int
setsockopt(int s, int level, int name, const void *value, socklen_t len)
{
    errno = ENOPROTOOPT;
    return -1;
}


struct hostent *
gethostbyname(const char *name)
{
    errno = ENOSYS;
    return NULL;
}


pid_t fork(void) { ngx_wasi_enosys(); }
int execve(const char *path, char *const argv[], char *const envp[])
    { ngx_wasi_enosys(); }
pid_t waitpid(pid_t pid, int *status, int options) { ngx_wasi_enosys(); }
pid_t setsid(void) { ngx_wasi_enosys(); }
int dup2(int fd, int fd2) { ngx_wasi_enosys(); }
int setuid(uid_t uid) { ngx_wasi_enosys(); }
int setgid(gid_t gid) { ngx_wasi_enosys(); }
int initgroups(const char *user, gid_t group) { ngx_wasi_enosys(); }
int chown(const char *path, uid_t owner, gid_t group) { ngx_wasi_enosys(); }
int chmod(const char *path, mode_t mode) { ngx_wasi_enosys(); }
int setrlimit(int resource, const struct rlimit *rlim) { ngx_wasi_enosys(); }
int setpriority(int which, id_t who, int prio) { ngx_wasi_enosys(); }
int sigsuspend(const sigset_t *set) { ngx_wasi_enosys(); }
int kill(pid_t pid, int sig) { ngx_wasi_enosys(); }
int setitimer(int which, const struct itimerval *value,
    struct itimerval *ovalue) { ngx_wasi_enosys(); }


struct passwd *
getpwnam(const char *name)
{
    errno = ENOSYS;
    return NULL;
}


struct group *
getgrnam(const char *name)
{
    errno = ENOSYS;
    return NULL;
}


char *
realpath(const char *path, char *resolved)
{
    errno = ENOSYS;
    return NULL;
}
