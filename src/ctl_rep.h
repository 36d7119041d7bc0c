/*
 * ctl_rep - greyrepctl reputation and greytrap verbs; see ctl_rep.c
 */
#ifndef GREYREP_CTL_REP_H
#define GREYREP_CTL_REP_H

/* ctl_rep_main - run "reputation ..." or "greytrap ..." (verb) with the
 * arguments after the verb; returns the exit status (usage errors exit 2) */
int ctl_rep_main(const char *file, const char *verb, int argc, char **argv);

#endif
