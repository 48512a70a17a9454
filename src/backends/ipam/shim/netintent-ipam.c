/*
 * netintent-ipam: the CNI IPAM executable the runtime calls. A native shim, so that a
 * call costs a C process start instead of a Node one: it sends the CNI environment and
 * stdin to the node-local IPAM daemon (`netintent ipam serve`) over a Unix socket and
 * replays its stdout and exit code. Wire format: src/backends/ipam/daemon/protocol.ts.
 *
 *   NETINTENT_IPAM_SOCKET      daemon socket (default /run/netintent/ipam.sock)
 *   NETINTENT_IPAM_TIMEOUT_MS  how long to wait for the daemon (default 30000)
 *
 * No daemon (socket absent or refusing), or a daemon gone before it answered: the shim
 * execs the JS plugin (<shim dir>/../src/backends/ipam/plugin-main.js under node), which
 * runs the same code, so behaviour is the same without the daemon. A repeated ADD or DEL
 * is safe (ADD keeps what the attachment holds), which is what makes the replay after a
 * dead daemon correct. A daemon that accepts but does not answer in time: CNI error 11
 * (try again later).
 *
 * Plain C99 + POSIX, no dependencies: cc -O2 -o netintent-ipam netintent-ipam.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/netintent/ipam.sock"
#define DEFAULT_TIMEOUT_MS 30000
#define PLUGIN_FROM_SHIM_DIR "/../src/backends/ipam/plugin-main.js"
#define CNI_TRY_AGAIN_LATER 11
#define CNI_IO_FAILURE 5

static const char MAGIC[4] = {'N', 'I', 'P', '1'};
static const char *const CNI_ENV_NAMES[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"};
#define CNI_ENV_COUNT (sizeof CNI_ENV_NAMES / sizeof CNI_ENV_NAMES[0])

struct buffer {
    char *data;
    size_t len, cap;
};

static void append(struct buffer *b, const void *data, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            perror("netintent-ipam: out of memory");
            exit(1);
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

static void append_u32(struct buffer *b, uint32_t n) {
    unsigned char be[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n};
    append(b, be, 4);
}

static uint32_t read_u32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | (uint32_t)u[3];
}

static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void read_stdin(struct buffer *b) {
    char chunk[65536];
    for (;;) {
        ssize_t n = read(0, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        append(b, chunk, (size_t)n);
    }
}

/* The config's "cniVersion" (for our own error JSON, as the plugin does), else the newest. */
static void cni_version_of(const struct buffer *stdin_bytes, char *out, size_t size) {
    snprintf(out, size, "1.1.0");
    const char *key = "\"cniVersion\"";
    const char *end = stdin_bytes->data + stdin_bytes->len;
    for (const char *p = stdin_bytes->data; p && p + strlen(key) <= end; p++) {
        if (memcmp(p, key, strlen(key)) != 0) continue;
        p += strlen(key);
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')) p++;
        if (p >= end || *p != '"') return;
        const char *start = ++p;
        while (p < end && *p != '"' && *p != '\\' && (size_t)(p - start) < size - 1) p++;
        if (p < end && *p == '"') snprintf(out, size, "%.*s", (int)(p - start), start);
        return;
    }
}

/* A CNI error JSON on stdout, exit 1 (the plugin's own errors look the same). `stdin_bytes`
 * NULL: stdin is still unread, and read here for the config's cniVersion. */
static void fail(int code, const char *msg, const struct buffer *stdin_bytes) {
    struct buffer unread = {0};
    if (!stdin_bytes) {
        read_stdin(&unread);
        stdin_bytes = &unread;
    }
    char version[32];
    cni_version_of(stdin_bytes, version, sizeof version);
    printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"%s\"}\n", version, code, msg);
    exit(1);
}

/*
 * Runs the JS plugin in place of this process. `replay`: the stdin already read, fed to
 * it through an unlinked temp file; NULL when stdin is still unread.
 */
static void exec_plugin(const struct buffer *replay) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) fail(CNI_IO_FAILURE, "netintent-ipam: cannot resolve /proc/self/exe", replay);
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    char plugin[PATH_MAX + sizeof PLUGIN_FROM_SHIM_DIR];
    snprintf(plugin, sizeof plugin, "%s%s", self, PLUGIN_FROM_SHIM_DIR);
    /* A shim copied out of its dist tree has no plugin beside it: say so, not node's stack. */
    if (access(plugin, R_OK) != 0) fail(CNI_IO_FAILURE, "netintent-ipam: no IPAM daemon and no JS plugin beside the shim (install the dist tree, symlink the shim)", replay);
    if (replay) {
        FILE *f = tmpfile();
        if (!f || fwrite(replay->data, 1, replay->len, f) != replay->len || fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0 || dup2(fileno(f), 0) < 0) {
            fail(CNI_IO_FAILURE, "netintent-ipam: cannot keep stdin for the plugin", replay);
        }
    }
    signal(SIGPIPE, SIG_DFL);
    char *args[] = {"node", plugin, NULL};
    execvp("node", args);
    fail(CNI_IO_FAILURE, "netintent-ipam: no IPAM daemon and cannot run node for the plugin", replay);
}

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for `events` on fd until `deadline`; 0 ready, -1 timed out. */
static int wait_for(int fd, short events, long long deadline) {
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return -1;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

int main(void) {
    signal(SIGPIPE, SIG_IGN); /* a daemon gone mid-request is an error to handle, not a kill */
    const char *path = getenv("NETINTENT_IPAM_SOCKET");
    if (!path || !*path) path = DEFAULT_SOCKET;
    const char *timeout_text = getenv("NETINTENT_IPAM_TIMEOUT_MS");
    long long timeout_ms = timeout_text && *timeout_text ? atoll(timeout_text) : DEFAULT_TIMEOUT_MS;
    long long deadline = now_ms() + timeout_ms;

    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) exec_plugin(NULL);
    memcpy(addr.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) exec_plugin(NULL);
    /* connect() on a Unix socket waits for room in a full backlog: bound it too. */
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (errno == EAGAIN || errno == ETIMEDOUT) fail(CNI_TRY_AGAIN_LATER, "netintent-ipam: the IPAM daemon did not accept in time", NULL);
        close(fd);
        exec_plugin(NULL); /* no daemon: stdin is still unread */
    }

    struct buffer input = {0};
    read_stdin(&input);

    struct buffer request = {0};
    append(&request, MAGIC, sizeof MAGIC);
    uint32_t count = 0;
    for (size_t i = 0; i < CNI_ENV_COUNT; i++) count += getenv(CNI_ENV_NAMES[i]) != NULL;
    append_u32(&request, count);
    for (size_t i = 0; i < CNI_ENV_COUNT; i++) {
        const char *value = getenv(CNI_ENV_NAMES[i]);
        if (!value) continue;
        append_u32(&request, (uint32_t)(strlen(CNI_ENV_NAMES[i]) + 1 + strlen(value)));
        append(&request, CNI_ENV_NAMES[i], strlen(CNI_ENV_NAMES[i]));
        append(&request, "=", 1);
        append(&request, value, strlen(value));
    }
    append_u32(&request, (uint32_t)input.len);
    if (input.len) append(&request, input.data, input.len);

    for (size_t sent = 0; sent < request.len;) {
        if (wait_for(fd, POLLOUT, deadline) != 0) fail(CNI_TRY_AGAIN_LATER, "netintent-ipam: the IPAM daemon did not take the request in time", &input);
        ssize_t n = send(fd, request.data + sent, request.len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) exec_plugin(&input); /* the daemon went away: run the command ourselves */
        sent += (size_t)n;
    }

    struct buffer reply = {0};
    char chunk[65536];
    for (;;) {
        if (reply.len >= 12) {
            if (memcmp(reply.data, MAGIC, sizeof MAGIC) != 0) exec_plugin(&input); /* not our daemon's protocol */
            uint32_t len = read_u32(reply.data + 8);
            if (reply.len >= 12 + (size_t)len) {
                if (write_all(1, reply.data + 12, len) != 0) return 1;
                return (int)read_u32(reply.data + 4);
            }
        }
        if (wait_for(fd, POLLIN, deadline) != 0) fail(CNI_TRY_AGAIN_LATER, "netintent-ipam: the IPAM daemon did not answer in time", &input);
        ssize_t n = recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) exec_plugin(&input); /* closed before a full reply: the daemon died */
        append(&reply, chunk, (size_t)n);
    }
}
