// SPDX-License-Identifier: GPL-2.0
/* Before 6.14: a tag set asks for merging with BLK_MQ_F_SHOULD_MERGE. */
#include <linux/blk-mq.h>

const unsigned int valet_conftest_flags = BLK_MQ_F_SHOULD_MERGE;
