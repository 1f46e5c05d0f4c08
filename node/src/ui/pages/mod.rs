//! One module per page (or group of forms on a page).

pub(crate) mod admin;
pub(crate) mod agenda;
pub(crate) mod agendas;
pub(crate) mod dashboard;
pub(crate) mod labels;
pub(crate) mod ledger;
pub(crate) mod login;
pub(crate) mod members;
pub(crate) mod network;
pub(crate) mod overdue;
pub(crate) mod password;
pub(crate) mod report;
pub(crate) mod search;
