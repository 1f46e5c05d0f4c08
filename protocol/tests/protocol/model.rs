//! The model's generic layer: an action dispatched through `ModelAction` and
//! `Replica::apply_as` makes the same change as the agenda's own edit, a refused action
//! changes nothing, and the view is read by the space's kind.

use automerge::ReadDoc;
use confer_protocol::model::{
    check_change, read_agenda, read_view, AgendaAction, AgendaEdit, Author, Made, ModelAction,
    ModelError, ModelView,
};
use confer_protocol::{Limits, Replica, ReplicaError, SpaceId, SpaceKind};

use crate::support;

/// Body 1's replica holding a fresh agenda with body 2 (the same space on every call).
fn with_agenda() -> (Replica, SpaceId) {
    let mut r = support::replica(1, Limits::default());
    let (space, _) = r
        .create_space(
            SpaceKind::Agenda,
            &[support::body_id(2)],
            1_700_000_000,
            [9; 16],
            1,
            |tx| support::edit(Some("跨界河道"), None).apply(tx),
        )
        .expect("create");
    (r, space)
}

#[test]
fn an_action_through_the_dispatch_makes_the_same_change_as_the_edit() {
    let edit = AgendaEdit {
        title: Some("跨界河道水环境联防联治".into()),
        summary: Some("平湖与金山".into()),
    };
    let (mut direct, space) = with_agenda();
    let (mut generic, same) = with_agenda();
    assert_eq!(space, same);

    let (before, _) = direct
        .local_change_as(None, &space, 2, |tx| edit.apply(tx))
        .expect("edit");
    let action = ModelAction::Agenda(AgendaAction::Edit(edit.clone()));
    assert_eq!(action, ModelAction::from(edit));
    assert_eq!(action.kind(), SpaceKind::Agenda);
    action.validate().expect("valid");
    let (after, fx) = generic.apply_as(None, &space, 2, &action).expect("applied");

    let (before, after) = (before.expect("a change"), after.expect("a change"));
    assert_eq!(before.bytes(), after.bytes(), "the same signed entry");
    assert_eq!(fx.persist.entries.len(), 1);
    let s = generic.space(&space).expect("space");
    let change = s
        .doc()
        .get_change_by_hash(&s.doc().get_heads()[0])
        .expect("head");
    let author = Author {
        key: support::member_secret(1).public(),
        body: support::body_id(1),
        can_sign: false,
    };
    assert_eq!(
        check_change(
            SpaceKind::Agenda,
            s.doc(),
            &mut Made::default(),
            &author,
            &change
        ),
        Ok(())
    );

    // The view, read by the space's kind, is the agenda's view.
    let view = read_view(s, generic.certs());
    assert_eq!(view, ModelView::Agenda(read_agenda(s, generic.certs())));
    assert_eq!(view.title(), "跨界河道水环境联防联治");
    assert_eq!(view.fields().len(), 2);
    assert_eq!(
        view,
        read_view(direct.space(&space).expect("space"), direct.certs())
    );
}

#[test]
fn a_refused_action_leaves_the_document_unchanged() {
    let (mut r, space) = with_agenda();
    let s = r.space(&space).expect("space");
    let (heads, log, view) = (s.doc().get_heads(), s.log().len(), read_view(s, r.certs()));
    let refused = [
        (
            ModelAction::from(support::edit(Some("  "), Some("摘要"))),
            ModelError::EmptyTitle,
        ),
        (
            ModelAction::from(support::edit(None, Some(&"长".repeat(30_000)))),
            ModelError::TooLong {
                field: "summary",
                max: confer_protocol::model::MAX_SUMMARY_BYTES,
            },
        ),
    ];
    for (action, why) in refused {
        assert_eq!(action.validate(), Err(why.clone()));
        assert_eq!(
            r.apply_as(None, &space, 2, &action).map(|_| ()),
            Err(ReplicaError::Model(why))
        );
        let s = r.space(&space).expect("space");
        assert_eq!(s.doc().get_heads(), heads, "no change made");
        assert_eq!(s.log().len(), log, "nothing signed");
        assert_eq!(read_view(s, r.certs()), view);
    }

    // An unknown space: refused before anything is written.
    let unknown = SpaceId([7; 32]);
    let action = ModelAction::from(support::edit(Some("题"), None));
    assert_eq!(
        r.apply_as(None, &unknown, 2, &action).map(|_| ()),
        Err(ReplicaError::UnknownSpace(unknown))
    );
}
