package banniu_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-data/ferry/internal/sandbox"
	"github.com/ferry-data/ferry/sinks/banniu"
	"github.com/ferry-data/ferry/sinks/banniu/banniusandbox"
	"github.com/ferry-data/ferry/sinks/sinktest"
)

// versionTarget is seed 002's target block writing the trade's status
// into the task's 处理结果 (77215), so that versions can be told apart.
var versionTarget = strings.Replace(seedTarget, `{field: "78538", label: 销售出库, type: int, value: 78534}`,
	`{field: "77215", label: 处理结果, type: string, value: "{tradeStatus}"}`, 1)

// TestConformance runs the suite every sink writer passes. 班牛 cannot
// delete a task: its sink skips tombstones.
func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sinktest.Case {
		f := newFixture(t, banniusandbox.Config{Tasks: 5, Settings: sandbox.Settings{Seed: 21}})
		for key := 1; key <= 3; key++ {
			f.sb.AddTask(project, map[string]any{"77213": fmt.Sprintf("TRADE%03d", key)})
		}
		w, err := banniu.NewWriter(f.client(t), flow(t, versionTarget))
		if err != nil {
			t.Fatal(err)
		}
		return sinktest.Case{
			Write: func(ctx context.Context, recs []map[string]any) error {
				for _, r := range recs {
					if err := w.WriteRecord(ctx, r); err != nil {
						return err
					}
				}
				return nil
			},
			State: func(context.Context) (map[string]string, error) {
				out := map[string]string{}
				for _, tk := range f.sb.Tasks(project) {
					no, _ := tk.Content["77213"].(string)
					if v, ok := tk.Content["77215"]; ok && strings.HasPrefix(no, "TRADE") {
						out[strings.TrimLeft(strings.TrimPrefix(no, "TRADE"), "0")] = fmt.Sprint(v)
					}
				}
				return out, nil
			},
			Record: func(key, v int) map[string]any {
				return map[string]any{"tradeNo": fmt.Sprintf("JY%03d", key), "onlineTradeNo": fmt.Sprintf("TRADE%03d", key), "tradeStatus": v}
			},
			Key: func(key int) any { return fmt.Sprintf("JY%03d", key) },
		}
	})
}
