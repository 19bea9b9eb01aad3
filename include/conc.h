/* conc.h - Python's concurrency model for C. Include this, link with `pkg-config --libs conc`. */
#ifndef CONC_H
#define CONC_H

#include "conc/error.h"
#include "conc/time.h"
#include "conc/sync.h"
#include "conc/thread.h"
#include "conc/signal.h"
#include "conc/gil.h"
#include "conc/process.h"
#include "conc/bound.h"
#include "conc/task.h"
#include "conc/aio.h"
#include "conc/future.h"
#include "conc/loop.h"
#include "conc/process.h"
#include "conc/conn.h"
#include "conc/shm.h"
#include "conc/queue.h"
#include "conc/net.h"
#include "conc/bytes.h"
#include "conc/executor.h"
#include "conc/manager.h"

#define CONC_VERSION_MAJOR 0
#define CONC_VERSION_MINOR 1
#define CONC_VERSION_PATCH 0

#endif
