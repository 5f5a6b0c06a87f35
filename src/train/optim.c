/* Per-tensor clip and SGD over the supernet's parameters; see optim.h for the rule. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "train/optim.h"

int train_optim_tensor_block(const char *name) {
    int block;
    return sscanf(name, "blocks.%d.", &block) == 1 ? block : -1;
}

int train_optim_tensor_task(const struct ufo_space *s, const char *name) {
    for (int t = 0; t < s->n_tasks; t++) {
        char a[64], b[64], c[64];
        snprintf(a, sizeof a, ".task_mlp.%s.", s->tasks[t].name);
        snprintf(b, sizeof b, ".gate.%s", s->tasks[t].name);
        snprintf(c, sizeof c, "heads.%s.", s->tasks[t].name);
        size_t bl = strlen(b), nl = strlen(name);
        if (strstr(name, a) || strncmp(name, c, strlen(c)) == 0 ||
            (nl >= bl && strcmp(name + nl - bl, b) == 0))
            return t;
    }
    return -1;
}

bool train_optim_tensor_rate(const struct train_optim *o, const struct ufo_param *p, double lr,
                             const int *kept, double *rate) {
    if (p->kind != UFO_PARAM_DECAY && p->kind != UFO_PARAM_NO_DECAY) return false;
    int block = train_optim_tensor_block(p->name);
    if (block >= 0 && !kept[block]) return false;
    double r = lr;
    size_t len = strlen(p->name);
    if (len > 5 && strcmp(p->name + len - 5, ".bias") == 0) r *= o->loop->bias_lr_factor;
    int task = train_optim_tensor_task(o->space, p->name);
    if (task >= 0) r *= o->task_lr_scale[task];
    *rate = r;
    return true;
}

ufo_status train_optim_step(ufo_device *dev, struct vit *vit, const struct train_optim *o,
                            double lr, const int *kept, cl_mem norm_work) {
    const struct ufo_layout *L = vit_layout(vit);
    const struct train_loop_config *lc = o->loop;
    struct ops_sgd_tensor *t = malloc((size_t)(L->n > 0 ? L->n : 1) * sizeof *t);
    if (!t) return ufo_fail(UFO_ERR_NOMEM, "train_optim_step: out of memory");
    size_t count = 0;
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        double rate;
        if (!train_optim_tensor_rate(o, p, lr, kept, &rate)) continue;
        float wd = p->kind == UFO_PARAM_DECAY ? (float)lc->weight_decay : 0.0f;
        t[count++] = (struct ops_sgd_tensor){p->offset, p->numel, (float)rate, wd};
    }
    ufo_status st = ops_sgd_multi(dev, ops_vec(vit_params(vit), 0), ops_vec(vit_grads(vit), 0),
                                  ops_vec(vit_momentum(vit), 0), t, count, (float)lc->momentum,
                                  (float)lc->grad_clip, ops_vec(norm_work, 0));
    free(t);
    return st;
}
