"""Reading the secretariat's mailbox: replies to rygrad's mails (README, "Replies by mail")."""
