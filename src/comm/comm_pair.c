/* See comm_pair.h. */
#include "comm/comm_pair.h"

#include <stdlib.h>

sl_status sl_comm_submit_pair(const sl_comm_pair *p, const struct starpu_data_descr *d, int n)
{
    struct starpu_data_descr *pd = malloc((size_t)(n + 1) * sizeof *pd);
    struct starpu_data_descr *cd = malloc((size_t)(n > 0 ? n : 1) * sizeof *cd);
    if (!pd || !cd) {
        free(pd), free(cd), p->free_op(p->op);
        return SL_ERR_NOMEM;
    }
    int np = 0;
    if (p->token)
        pd[np++] = (struct starpu_data_descr){p->token, STARPU_RW};
    for (int i = 0; i < n; i++) {
        pd[np++] = d[i];
        cd[i] = (struct starpu_data_descr){d[i].handle, d[i].mode == STARPU_R ? STARPU_R
                                                                                : STARPU_RW};
    }
    /* The completion must follow the post even where data gives no order (a send reads its
     * buffer in both tasks, and R-R accesses run in any order): an explicit dependency. */
    void *op = p->op;
    struct starpu_task *pt = starpu_task_build(p->post, STARPU_VALUE, &op, sizeof op,
                                               STARPU_DATA_MODE_ARRAY, pd, np, STARPU_PRIORITY,
                                               STARPU_MAX_PRIO, 0);
    struct starpu_task *ct = starpu_task_build(p->complete, STARPU_VALUE, &op, sizeof op,
                                               STARPU_DATA_MODE_ARRAY, cd, n, STARPU_PRIORITY,
                                               STARPU_MAX_PRIO, 0);
    int ret = pt && ct ? 0 : -1;
    if (ret == 0) {
        pt->name = p->post->name; /* (starpu_task_build names its tasks "task_build") */
        ct->name = p->complete->name;
        starpu_task_declare_deps_array(ct, 1, &pt);
        ret = starpu_task_submit(pt);
    }
    if (ret != 0) {
        if (pt) starpu_task_destroy(pt);
        if (ct) starpu_task_destroy(ct);
        p->free_op(op);
    } else if ((ret = starpu_task_submit(ct)) != 0) {
        /* the post will run and nothing will watch its requests: counted, so that sl_wait
         * reports it (StarPU refuses a submission only on misuse) */
        __atomic_add_fetch(p->failures, 1, __ATOMIC_RELAXED);
    }
    free(pd);
    free(cd);
    return ret == 0 ? SL_OK : SL_ERR_STARPU;
}
