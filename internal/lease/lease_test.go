package lease

import (
	"testing"

	"github.com/segmentio/kafka-go"
)

func TestStickyAssignment(t *testing.T) {
	parts := []kafka.Partition{{Topic: Topic, ID: 0}}
	for _, tc := range []struct {
		name    string
		members []kafka.GroupMember
		want    string
	}{
		{"nobody owned it: the first member", []kafka.GroupMember{{ID: "b", UserData: []byte("0")}, {ID: "a", UserData: []byte("0")}}, "a"},
		{"the last owner keeps it", []kafka.GroupMember{{ID: "a", UserData: []byte("0")}, {ID: "c", UserData: []byte("7")}}, "c"},
		{"the newest ownership wins over a stale claim", []kafka.GroupMember{{ID: "a", UserData: []byte("7")}, {ID: "b", UserData: []byte("9")}}, "b"},
		{"a member without user data", []kafka.GroupMember{{ID: "z"}, {ID: "y", UserData: []byte("3")}}, "y"},
	} {
		got := (&sticky{}).AssignGroups(tc.members, parts)
		for _, m := range tc.members {
			owns := len(got[m.ID][Topic]) == 1
			if owns != (m.ID == tc.want) {
				t.Errorf("%s: %s owns %v", tc.name, m.ID, owns)
			}
		}
	}
}
