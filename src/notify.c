/*
 * notify.c - the sd_notify datagram; see notify.h
 */
#include "autoconf.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

int notify_send(const char *state)
{
    const char *name = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa;
    size_t len;
    ssize_t sent;
    int fd, saved;

    if (name == NULL || name[0] == '\0')
        return 0;
    len = strlen(name);
    /* a path or an abstract name; nothing else is a socket systemd made */
    if ((name[0] != '/' && name[0] != '@') || len < 2 || len > sizeof sa.sun_path) {
        errno = EINVAL;
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)&sa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    saved = errno;
    close(fd);
    if (sent < 0 || (size_t)sent != strlen(state)) {
        errno = sent < 0 ? saved : EMSGSIZE;
        return -1;
    }
    return 0;
}
