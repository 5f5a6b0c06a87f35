/* Which tensors an optimiser step updates and at what rate (src/train/optim.h), on the host:
 * the bias factor, each task's lr_scale on exactly its own FFNs, gates and heads (with one
 * task's name a prefix of another's), frozen tensors and buffers left alone, and the
 * tensors of a block that no architecture of the step kept. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "check.h"
#include "model/params.h"
#include "train/optim.h"

int main(void) {
    struct ufo_space s;
    ufo_space_default(&s);
    s.embed_dim = 32, s.head_dim = 16, s.max_heads = 2, s.depth = 3, s.patch = 8;
    s.image_size = 16, s.mlp_ratio_max = 2.0, s.min_depth = 1;
    s.n_heads_choices = 1, s.heads_choices[0] = 2;
    s.n_mlp_choices = 1, s.mlp_ratio_choices[0] = 2;
    s.n_tasks = 2;
    s.tasks[1] = s.tasks[0];
    strcpy(s.tasks[0].name, "car");
    strcpy(s.tasks[1].name, "carpet");
    s.tasks[0].classes = 3, s.tasks[1].classes = 4;
    struct ufo_layout l;
    REQUIRE_OK(ufo_layout_create(&s, &l));

    struct train_loop_config lc = {.bias_lr_factor = 2, .momentum = 0.9, .weight_decay = 1e-4};
    double scale[2] = {3, 0.5};
    struct train_optim o = {.loop = &lc, .task_lr_scale = scale, .space = &s};
    int kept[3] = {1, 0, 1};
    const double lr = 0.1;

    /* name: rate factor, or 0 for left alone */
    static const struct { const char *name; double factor; } want[] = {
        {"patch_embed.proj.weight", 1},           {"patch_embed.proj.bias", 2},
        {"cls_token", 1},                         {"pos_embed", 1},
        {"blocks.0.attn.qkv.bias", 2},            {"blocks.2.mlp.fc1.weight", 1},
        {"blocks.0.task_mlp.car.fc1.bias", 6},    {"blocks.2.task_mlp.carpet.fc2.weight", 0.5},
        {"blocks.0.task_mlp.carpet.fc1.bias", 1}, {"blocks.2.task_mlp.car.fc2.weight", 3},
        {"blocks.0.gate.car", 3},                 {"blocks.2.gate.carpet", 0.5},
        {"blocks.1.norm1.weight", 0},             {"blocks.1.gate.car", 0},
        {"blocks.1.task_mlp.carpet.fc2.bias", 0}, {"norm.weight", 1},
        {"norm.bias", 2},                         {"heads.car.bnneck.weight", 3},
        {"heads.carpet.cosface.weight", 0.5},     {"heads.car.bnneck.bias", 0},
        {"heads.carpet.bnneck.running_mean", 0},  {"heads.car.bnneck.running_var", 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int at = ufo_layout_find(&l, want[i].name);
        EXPECT(at >= 0, "%s is not in the layout", want[i].name);
        if (at < 0) continue;
        double rate = -1;
        bool trains = train_optim_tensor_rate(&o, &l.params[at], lr, kept, &rate);
        if (want[i].factor == 0)
            EXPECT(!trains, "%s: updated at rate %g, want left alone", want[i].name, rate);
        else
            EXPECT(trains && fabs(rate - lr * want[i].factor) < 1e-15,
                   "%s: %s at rate %g, want %g", want[i].name, trains ? "updated" : "left alone",
                   rate, lr * want[i].factor);
    }

    /* every tensor: a block's own, a task's own, left alone exactly as the rule says */
    int updated = 0, block1 = 0, trainable = 0;
    for (int i = 0; i < l.n; i++) {
        const struct ufo_param *p = &l.params[i];
        double rate;
        bool trains = train_optim_tensor_rate(&o, p, lr, kept, &rate);
        int block = train_optim_tensor_block(p->name);
        bool is_trainable = p->kind == UFO_PARAM_DECAY || p->kind == UFO_PARAM_NO_DECAY;
        trainable += is_trainable;
        block1 += is_trainable && block == 1;
        updated += trains;
        EXPECT(trains == (is_trainable && block != 1), "%s: %s", p->name,
               trains ? "updated" : "left alone");
        int task = train_optim_tensor_task(&s, p->name);
        bool task_named = strstr(p->name, ".task_mlp.") || strstr(p->name, ".gate.") ||
                          strncmp(p->name, "heads.", 6) == 0;
        EXPECT((task >= 0) == task_named, "%s: task %d", p->name, task);
    }
    EXPECT(block1 == 8 + 3 * 4 + 2, "block 1 holds %d trainable tensors", block1);
    EXPECT(updated == trainable - block1, "%d of %d trainable tensors updated", updated,
           trainable);
    EXPECT(train_optim_tensor_task(&s, "blocks.0.gate.carpet") == 1 &&
           train_optim_tensor_task(&s, "heads.car.cosface.weight") == 0 &&
           train_optim_tensor_task(&s, "blocks.0.mlp.fc1.bias") == -1, "task of a tensor");
    ufo_layout_free(&l);
    return test_finish("test_optim_rate");
}
