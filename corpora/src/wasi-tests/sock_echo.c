/* sock_echo.c - serves connections on the listening socket the runtime preopened: each
 * request (up to 255 bytes, read until the client shuts down its side) is answered with the
 * same bytes upper-cased, then the connection is closed.
 *
 * args: N, the number of connections to serve (default 2), and optionally DIR, a preopened
 * directory into which it writes served.txt at the end (so a guest given a directory and a
 * socket still sees its directory).  env: none.  preopens: DIR if given, and one TCP
 * listener, found by scanning descriptors from 3.  exit code: 0.
 * The first connection is accepted blocking; the listener is then made non-blocking and the
 * rest are accepted after poll() reports it readable, and read with poll() on a non-blocking
 * connection, as an event-driven server does.  Also checks what a socket must refuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void fail(const char *what)
{
    printf("FAILED %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Waits until `fd` has `events`. */
static void wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    if (poll(&p, 1, 10000) != 1)
        fail("poll");
}

/* Reads a request until end of stream; returns its length. */
static size_t read_request(int c, char *buf, size_t cap, int nonblocking)
{
    size_t len = 0;
    for (;;) {
        if (nonblocking)
            wait_for(c, POLLIN);
        ssize_t n = recv(c, buf + len, cap - len, 0);
        if (n < 0 && errno == EAGAIN)
            continue;
        if (n < 0)
            fail("recv");
        if (n == 0 || len + (size_t)n == cap)
            return len + (size_t)n;
        len += (size_t)n;
    }
}

static void serve(int c, int nonblocking)
{
    char buf[256];
    size_t len = read_request(c, buf, sizeof buf, nonblocking);
    for (size_t i = 0; i < len; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (char)(buf[i] - 'a' + 'A');
    size_t sent = 0;
    while (sent < len) {
        if (nonblocking)
            wait_for(c, POLLOUT);
        ssize_t n = send(c, buf + sent, len - sent, 0);
        if (n < 0 && errno == EAGAIN)
            continue;
        if (n < 0)
            fail("send");
        sent += (size_t)n;
    }
    if (shutdown(c, SHUT_WR) != 0)
        fail("shutdown");
    if (close(c) != 0)
        fail("close");
}

/* The first socket among the descriptors from 3 on. */
static int find_listener(void)
{
    for (int fd = 3; fd < 64; fd++) {
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
            return fd;
    }
    errno = EBADF;
    fail("no listening socket");
    return -1;
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 2;
    int listener = find_listener();
    printf("listening socket at fd %d\n", listener);
    if (accept(0, NULL, NULL) >= 0 || errno != ENOTSOCK)
        fail("accept on stdin");
    printf("accept on stdin: ENOTSOCK\n");
    if (shutdown(listener, 42) == 0 || errno != EINVAL)
        fail("shutdown with a bad `how`");
    printf("bad shutdown: EINVAL\n");

    int c = accept(listener, NULL, NULL);
    if (c < 0)
        fail("accept");
    serve(c, 0);
    printf("served 1 (blocking)\n");

    if (fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK) != 0)
        fail("fcntl O_NONBLOCK");
    for (int i = 1; i < count; i++) {
        for (;;) {
            c = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
            if (c >= 0)
                break;
            if (errno != EAGAIN)
                fail("accept4");
            wait_for(listener, POLLIN);
        }
        if (!(fcntl(c, F_GETFL) & O_NONBLOCK))
            fail("the accepted socket is not non-blocking");
        serve(c, 1);
        printf("served %d (non-blocking)\n", i + 1);
    }
    if (argc > 2) {
        char path[256];
        snprintf(path, sizeof path, "%s/served.txt", argv[2]);
        FILE *f = fopen(path, "w");
        if (!f)
            fail("fopen DIR/served.txt");
        fprintf(f, "served %d\n", count);
        fclose(f);
        printf("wrote %s\n", path);
    }
    return 0;
}
