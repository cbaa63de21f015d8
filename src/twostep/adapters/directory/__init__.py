"""LDAP and Active Directory through ldap3: reading a directory's users (paged, incremental)
and checking their passwords by binds on pooled connections.

``LdapConnector`` (connector.py) is the ``DirectoryConnector`` the rest of Twostep sees;
entries.py maps an LDAP entry to a ``DirectoryEntry``, marks.py keeps the incremental cursors,
servers.py opens verified connections in failover order, binds.py pools the binds.
"""
