"""ScanPro's bridge to one warm LibreOffice instance.

Run by the system Python (which has python3-uno) as `uno_bridge.py PORT CONNECT_SECONDS`. It
connects to the instance listening on 127.0.0.1:PORT, prints {"ready": true}, then answers each
JSON request line on stdin with one JSON line on stdout:

  request: {"input": path, "output": path, "import": {"filter", "options"} or null,
            "exports": {kind: {"filter", "options", "filter_data", "landscape", "needs_view",
                               "keep_comments"}},
            "count_pages": bool}
  answer:  {"ok": true, "kind": kind}
           {"ok": false, "error": E, "kind": kind or null, "message": text}, E one of
             encrypted     the document asked for a password
             unreadable    LibreOffice could not load it
             wrong_kind    it opened as a kind the request has no export for
             needs_cold    it needs a view this instance cannot build safely (see below)
             export_failed the export filter failed
             skipped       the caller called the export off after the page count
             disconnected  the instance is gone (the bridge exits)

With "count_pages" the bridge prints {"pages": N} once the document is laid out and reads one
line, {"page_range": "1-3,5"}, {"page_range": null} (every page) or {"skip": true}.

Documents load without a frame: no window and no view, so no document event or macro has
anything to run in, and no question can wait for a user (every interaction is answered Abort).
PDF export needs a view, attached afterwards. A Writer view builds one window per comment from UI
files that LibreOffice's headless ("nogui") packages lack, and aborts the whole process: comments
are removed first, or, when they are wanted in the PDF, the caller converts in a cold process.
PDF imports fill a frameless document with nothing, so those load into a hidden frame.
"""
import json
import sys
import time

import uno
import unohelper
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import DisposedException
from com.sun.star.task import XInteractionHandler

KINDS = (
    ("text", "com.sun.star.text.TextDocument"),
    ("spreadsheet", "com.sun.star.sheet.SpreadsheetDocument"),
    ("presentation", "com.sun.star.presentation.PresentationDocument"),
    ("drawing", "com.sun.star.drawing.DrawingDocument"),
)
NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode
FRAMED_IMPORTS = ("writer_pdf_import", "impress_pdf_import", "draw_pdf_import")
PASSWORD = uno.getTypeByName("com.sun.star.task.XInteractionPassword")
ABORT = uno.getTypeByName("com.sun.star.task.XInteractionAbort")
DISAPPROVE = uno.getTypeByName("com.sun.star.task.XInteractionDisapprove")


class Refused(Exception):
    """A document problem the caller gets as a typed error; the instance stays healthy."""

    def __init__(self, error, message, kind=None):
        super().__init__(message)
        self.error, self.kind = error, kind


def props(**values):
    return tuple(PropertyValue(Name=name, Value=value) for name, value in values.items())


class AbortEverything(unohelper.Base, XInteractionHandler):
    """Answers every question with Abort, or Disapprove ("repair this broken file?"), and
    remembers password requests. They are recognised by their password continuation: pyuno cannot
    convert some request types (DocumentMSPasswordRequest2) into Python."""

    def __init__(self):
        self.asked_password = False

    def handle(self, request):
        continuations = request.getContinuations()
        if any(c.queryInterface(PASSWORD) for c in continuations):
            self.asked_password = True
        for refusal in (ABORT, DISAPPROVE):
            for continuation in continuations:
                if continuation.queryInterface(refusal):
                    continuation.select()
                    return


class Bridge:
    def __init__(self, port, connect_seconds):
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        deadline = time.monotonic() + connect_seconds
        while True:
            try:
                self.ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
                break
            except NoConnectException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.smgr = self.ctx.ServiceManager
        self.desktop = self.create("com.sun.star.frame.Desktop")
        self.detection = self.create("com.sun.star.document.TypeDetection")
        self.filters = self.create("com.sun.star.document.FilterFactory")

    def create(self, service):
        return self.smgr.createInstanceWithContext(service, self.ctx)

    def convert(self, request):
        handler = AbortEverything()
        document = self.load(request, handler)
        kind = None
        try:
            kind = document_kind(document)
            export = request["exports"].get(kind)
            if export is None:
                raise Refused("wrong_kind", f"the document opened as {kind}")
            if export["landscape"]:
                make_landscape(document)
            if export["needs_view"]:
                self.attach_view(document, export["keep_comments"])
            if request.get("update_indexes"):
                update_indexes(document)
            filter_data = dict(export["filter_data"])
            if request["count_pages"]:
                reply({"pages": page_count(document, filter_data)})
                answer = json.loads(sys.stdin.readline() or '{"skip": true}')
                if answer.get("skip"):
                    raise Refused("skipped", "the export was called off")
                if answer["page_range"]:
                    filter_data["PageRange"] = answer["page_range"]
            store(document, request["output"], export, filter_data)
            return {"ok": True, "kind": kind}
        except Refused as refused:
            refused.kind = kind
            raise
        finally:
            close(document)

    def load(self, request, handler):
        url = uno.systemPathToFileUrl(request["input"])
        forced = request.get("import") or {}
        filter_name = forced.get("filter") or self.detect(url, handler, request.get("password"))
        descriptor = dict(
            FilterName=filter_name,
            ReadOnly=True,
            Hidden=True,
            MacroExecutionMode=NEVER_EXECUTE,
            UpdateDocMode=NO_UPDATE,
            InteractionHandler=handler,
        )
        if forced.get("options"):
            descriptor["FilterOptions"] = forced["options"]
        if request.get("password"):
            descriptor["Password"] = request["password"]
        try:
            if filter_name in FRAMED_IMPORTS:
                document = self.desktop.loadComponentFromURL(url, "_blank", 0, props(**descriptor))
            else:
                document = self.load_frameless(url, filter_name, descriptor)
        except DisposedException:
            raise
        except Exception as error:
            refuse_if_locked(request, handler)
            raise Refused("unreadable", f"LibreOffice could not read the document ({type(error).__name__})")
        if document is None:
            raise Refused("unreadable", "LibreOffice could not read the document")
        return document

    def detect(self, url, handler, password):
        """LibreOffice's deep type detection (where encrypted OOXML asks for its password)."""
        query = dict(URL=url, InteractionHandler=handler)
        if password:
            query["Password"] = password
        type_name, descriptor = self.detection.queryTypeByDescriptor(props(**query), True)
        refuse_if_locked({"password": password}, handler)
        found = [p.Value for p in descriptor if p.Name == "FilterName" and p.Value]
        if not found and type_name:
            found = [p.Value for p in self.detection.getByName(type_name) if p.Name == "PreferredFilter" and p.Value]
        if not found or not self.filters.hasByName(found[0]):
            raise Refused("unreadable", "LibreOffice does not recognise the document")
        return found[0]

    def load_frameless(self, url, filter_name, descriptor):
        service = [p.Value for p in self.filters.getByName(filter_name) if p.Name == "DocumentService"][0]
        document = self.create(service)
        try:
            document.load(props(URL=url, **descriptor))
        except Exception:
            close(document)
            raise
        return document

    def attach_view(self, document, keep_comments):
        if document.getCurrentController() is not None:
            return
        if document.supportsService("com.sun.star.text.TextDocument"):
            comments = writer_comments(document)
            if comments and keep_comments:
                raise Refused("needs_cold", "comments wanted in a PDF need a cold process")
            for comment in comments:
                comment.dispose()
        shown = self.desktop.loadComponentFromURL("private:object", "_blank", 0, props(Model=document, Hidden=True))
        if shown is None:
            raise Refused("export_failed", "LibreOffice could not lay the document out")


def refuse_if_locked(request, handler):
    """A password was asked for: none was given, or the one given is wrong."""
    if handler.asked_password and request.get("password"):
        raise Refused("wrong_password", "the password does not open the document")
    if handler.asked_password:
        raise Refused("encrypted", "the document is password-protected")


def update_indexes(document):
    """Brings tables of contents and other indexes up to date, page numbers included. Alphabetical
    indexes are left as the document has them: one can name a concordance file, which updating
    would read from the server."""
    if not document.supportsService("com.sun.star.text.TextDocument"):
        return
    indexes = document.getDocumentIndexes()
    for i in range(indexes.getCount()):
        index = indexes.getByIndex(i)
        if not index.supportsService("com.sun.star.text.DocumentIndex"):
            index.update()


def document_kind(document):
    for kind, service in KINDS:
        if document.supportsService(service):
            return kind
    return "other"


def writer_comments(document):
    fields = document.getTextFields().createEnumeration()
    comments = []
    while fields.hasMoreElements():
        field = fields.nextElement()
        if field.supportsService("com.sun.star.text.textfield.Annotation"):
            comments.append(field)
    return comments


def make_landscape(document):
    """Turns every portrait page style to landscape, swapping width and height."""
    styles = document.getStyleFamilies().getByName("PageStyles")
    for name in styles.getElementNames():
        style = styles.getByName(name)
        if not style.IsLandscape:
            width, height = style.Width, style.Height
            style.IsLandscape = True
            if width < height:
                style.Width, style.Height = height, width


def page_count(document, filter_data):
    """Pages the export will produce: Writer's laid-out pages, else the renderer count under the
    option that changes it."""
    if document.supportsService("com.sun.star.text.TextDocument"):
        return document.getCurrentController().PageCount
    options = {"IsPrinter": False}
    if "SinglePageSheets" in filter_data:
        options["SinglePageSheets"] = filter_data["SinglePageSheets"]
    return document.getRendererCount(document, props(**options))


def store(document, output, export, filter_data):
    arguments = dict(FilterName=export["filter"], Overwrite=True)
    if filter_data:
        arguments["FilterData"] = uno.Any("[]com.sun.star.beans.PropertyValue", props(**filter_data))
    if export["options"]:
        arguments["FilterOptions"] = export["options"]
    try:
        document.storeToURL(uno.systemPathToFileUrl(output), props(**arguments))
    except DisposedException:
        raise
    except Exception as error:
        raise Refused("export_failed", f"LibreOffice could not export the document ({type(error).__name__})")


def close(document):
    try:
        document.close(True)
    except DisposedException:
        raise
    except Exception:
        document.dispose()


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    port, connect_seconds = int(sys.argv[1]), float(sys.argv[2])
    bridge = Bridge(port, connect_seconds)
    reply({"ready": True})
    for line in sys.stdin:
        try:
            reply(bridge.convert(json.loads(line)))
        except Refused as refused:
            reply({"ok": False, "error": refused.error, "kind": refused.kind, "message": str(refused)})
        except Exception as error:
            # DisposedException or a RuntimeException from a dying instance (or a bug here): the
            # caller replaces the instance.
            reply({"ok": False, "error": "disconnected", "message": f"{type(error).__name__}: {error}"[:500]})
            return


if __name__ == "__main__":
    main()
