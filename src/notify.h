/*
 * NAME
 *   notify - tell systemd that greyrep is ready or stopping (sd_notify)
 * DESCRIPTION
 *   Under a unit of Type=notify, systemd passes the name of a unix datagram
 *   socket in $NOTIFY_SOCKET (a path, or "@name" for the abstract
 *   namespace).  notify_send() writes one newline-separated state string,
 *   such as "READY=1" or "STOPPING=1", to it as one datagram.  Without
 *   $NOTIFY_SOCKET it does nothing, so greyrep started by hand or by another
 *   init is not affected.  No libsystemd is needed.
 * THREADS
 *   Safe from any thread.
 */
#ifndef GREYREP_NOTIFY_H
#define GREYREP_NOTIFY_H

/* notify_send - one datagram to $NOTIFY_SOCKET: 0 sent or not asked for, -1 error (errno) */
int notify_send(const char *state);

#endif
