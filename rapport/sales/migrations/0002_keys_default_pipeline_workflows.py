"""Binary collation for the sort keys (as directory 0002), the default pipeline and example workflows."""

from django.db import migrations

KEY_COLUMNS = {
    "sales_lead": {"name_key": 300, "email_key": 254},
    "sales_opportunity": {"name_key": 200},
}

DEFAULT_STAGES = [
    # name, default probability, outcome
    ("Prospecting", 10, "open"),
    ("Qualification", 20, "open"),
    ("Needs analysis", 40, "open"),
    ("Proposal", 60, "open"),
    ("Negotiation", 80, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
]

# Each workflow: (name, description, [(branch, [sub-branches])])
EXAMPLE_WORKFLOWS = [
    ("Customer Relationship", "Everyday contact with a customer.", [
        ("Meeting", ["Quarterly review", "Kick-off", "Site visit"]),
        ("Phone call", ["Follow-up call", "Complaint"]),
        ("Correspondence", ["Offer", "Newsletter"]),
    ]),
    ("Lead Acquisition", "Winning a new customer.", [
        ("Trade fair", ["First contact"]),
        ("Cold call", []),
        ("Referral", []),
    ]),
    ("Purchasing", "What the customer buys and how it reaches them.", [
        ("Request for quotation", []),
        ("Order confirmation", []),
        ("Delivery", ["Delivery note", "Returns"]),
    ]),
    ("Opportunity Analysis", "Understanding a deal before the offer.", [
        ("Needs analysis", []),
        ("Demonstration", []),
        ("Proposal review", []),
    ]),
]


def _collation(name):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, columns in KEY_COLUMNS.items():
            for column, length in columns.items():
                schema_editor.execute(
                    f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({length}) COLLATE "{name}"'
                )
    return run


def create_defaults(apps, schema_editor):
    from rapport.core.ids import new_public_id

    Pipeline = apps.get_model("sales", "Pipeline")
    PipelineStage = apps.get_model("sales", "PipelineStage")
    WorkflowDefinition = apps.get_model("sales", "WorkflowDefinition")
    CommunicationType = apps.get_model("sales", "CommunicationType")
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Sales", position=0, is_default=True, public_id=new_public_id())
        for position, (name, probability, outcome) in enumerate(DEFAULT_STAGES):
            PipelineStage.objects.create(pipeline=pipeline, name=name, position=position, probability=probability,
                                         outcome=outcome, public_id=new_public_id())
    if not WorkflowDefinition.objects.exists():
        for position, (name, description, branches) in enumerate(EXAMPLE_WORKFLOWS):
            workflow = WorkflowDefinition.objects.create(name=name, description=description, position=position,
                                                         public_id=new_public_id())
            for branch_position, (branch, leaves) in enumerate(branches):
                parent = CommunicationType.objects.create(workflow=workflow, name=branch, position=branch_position,
                                                          public_id=new_public_id())
                for leaf_position, leaf in enumerate(leaves):
                    CommunicationType.objects.create(workflow=workflow, parent=parent, name=leaf,
                                                     position=leaf_position, public_id=new_public_id())


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]
    operations = [
        migrations.RunPython(_collation("C"), _collation("default")),
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
    ]
