/* day25._speedups: the hot path of EventBus.emit, in C.
 *
 * Why: ``await bus.emit("e", p)`` with ten cheap sync listeners spent a third of
 * its time in the fixed cost of a Python-level call (argument parsing, frame,
 * locals) that no pure-Python rewrite can remove. ``Emitter`` is a callable
 * object set as the bus's instance attribute ``emit`` (see day25/accelerator.py);
 * its vectorcall handles one case only, the same one as the hot path at the top
 * of the pure-Python ``EventBus.emit``:
 *
 *   emit(event, payload)  -- two positional arguments, no keywords,
 *   event a str whose cached Plan has ``sync`` (only sync, non-once,
 *   non-wildcard listeners) and ``done`` (the shared finished awaitable).
 *
 * It calls each callback with the payload. All returned None: it returns
 * ``plan.done``. The first listener that raises an Exception or returns
 * something else is handed, with everything after it, to the Python method
 * ``EventBus._resume_sync``, so every rule (logging, errors in the result,
 * awaiting an awaitable) lives in Python only. A BaseException that is not an
 * Exception (CancelledError, KeyboardInterrupt) propagates untouched, as in
 * Python. Every other call goes to the pure-Python ``EventBus.emit`` unchanged.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *bus;        /* the EventBus (strong: like a bound method) */
    PyObject *plans;      /* bus._plans, a dict never rebound */
    PyObject *emit;       /* EventBus.emit, the function: the fallback */
    PyObject *resume;     /* EventBus._resume_sync, the function */
    PyTypeObject *plan_type;
    Py_ssize_t sync_offset; /* where Plan.sync / Plan.done live (__slots__) */
    Py_ssize_t done_offset;
    vectorcallfunc vectorcall;
} Emitter;

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* The pure-Python EventBus.emit(bus, *args, **kwargs), args exactly as given. */
static PyObject *
fallback(Emitter *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t total = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames));
    PyObject *result;
    if (nargsf & PY_VECTORCALL_ARGUMENTS_OFFSET) {
        /* The caller lent us args[-1] (PEP 590): put the bus there for the call. */
        PyObject **room = (PyObject **)args - 1;
        PyObject *saved = *room;
        *room = self->bus;
        result = PyObject_Vectorcall(self->emit, room, (size_t)(nargs + 1), kwnames);
        *room = saved;
        return result;
    }
    PyObject *small[8];
    PyObject **stack = small;
    if (total + 1 > 8) {
        stack = PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *));
        if (stack == NULL) {
            return PyErr_NoMemory();
        }
    }
    stack[0] = self->bus;
    for (Py_ssize_t i = 0; i < total; i++) {
        stack[i + 1] = args[i];
    }
    result = PyObject_Vectorcall(self->emit, stack, (size_t)(nargs + 1), kwnames);
    if (stack != small) {
        PyMem_Free(stack);
    }
    return result;
}

/* Listener ``index`` returned ``result`` (not None) or raised ``error``: the
 * Python method EventBus._resume_sync carries on from there. */
static PyObject *
resume(Emitter *self, PyObject *plan, PyObject *event, PyObject *payload,
       Py_ssize_t index, PyObject *result, PyObject *error)
{
    PyObject *where = PyLong_FromSsize_t(index);
    if (where == NULL) {
        return NULL;
    }
    PyObject *stack[7] = {self->bus, plan, event, payload, where, result, error};
    PyObject *out = PyObject_Vectorcall(self->resume, stack, 7, NULL);
    Py_DECREF(where);
    return out;
}

/* The exception being raised, taken off the thread state with its traceback. */
static PyObject *
take_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

static PyObject *
emitter_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Emitter *self = (Emitter *)callable;
    if (PyVectorcall_NARGS(nargsf) != 2 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        return fallback(self, args, nargsf, kwnames);
    }
    PyObject *event = args[0];
    PyObject *payload = args[1];
    if (!PyUnicode_CheckExact(event)) {
        return fallback(self, args, nargsf, kwnames);
    }
    PyObject *plan = PyDict_GetItemWithError(self->plans, event); /* borrowed */
    if (plan == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        return fallback(self, args, nargsf, kwnames);
    }
    if (Py_TYPE(plan) != self->plan_type) {
        return fallback(self, args, nargsf, kwnames);
    }
    PyObject *calls = SLOT(plan, self->sync_offset);
    PyObject *done = SLOT(plan, self->done_offset);
    if (calls == NULL || !PyTuple_CheckExact(calls) || done == NULL || done == Py_None) {
        return fallback(self, args, nargsf, kwnames);
    }
    /* A listener may call on()/off(), which clears the plans dict: hold our own refs. */
    Py_INCREF(plan);
    Py_INCREF(calls);
    PyObject *out = NULL;
    if (Py_EnterRecursiveCall(" in day25 EventBus.emit")) {
        goto finally;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(calls);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *result = PyObject_CallOneArg(PyTuple_GET_ITEM(calls, i), payload);
        if (result == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                goto leave; /* CancelledError, KeyboardInterrupt, SystemExit: as raised */
            }
            PyObject *error = take_exception();
            if (error == NULL) {
                goto leave;
            }
            out = resume(self, plan, event, payload, i, Py_None, error);
            Py_DECREF(error);
            goto leave;
        }
        if (result != Py_None) {
            out = resume(self, plan, event, payload, i, result, Py_None);
            Py_DECREF(result);
            goto leave;
        }
        Py_DECREF(result);
    }
    done = SLOT(plan, self->done_offset); /* read again, as the Python code does */
    if (done != NULL && done != Py_None) {
        out = Py_NewRef(done);
    }
    else {
        out = resume(self, plan, event, payload, n, Py_None, Py_None);
    }
leave:
    Py_LeaveRecursiveCall();
finally:
    Py_DECREF(calls);
    Py_DECREF(plan);
    return out;
}

/* Where a __slots__ member of ``type`` lives; -1 (and an error) if it is not one. */
static Py_ssize_t
slot_offset(PyObject *descr, PyTypeObject **type)
{
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "expected a __slots__ member descriptor, not %R", descr);
        return -1;
    }
    PyMemberDescrObject *member = (PyMemberDescrObject *)descr;
    if (member->d_member->type != T_OBJECT_EX || (member->d_member->flags & READONLY)) {
        PyErr_Format(PyExc_TypeError, "%R is not a writable object slot", descr);
        return -1;
    }
    if (*type != NULL && *type != PyDescr_TYPE(member)) {
        PyErr_SetString(PyExc_TypeError, "sync and done must be slots of the same class");
        return -1;
    }
    *type = PyDescr_TYPE(member);
    return member->d_member->offset;
}

static PyObject *
emitter_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"bus", "plans", "emit", "resume", "sync", "done", NULL};
    PyObject *bus, *plans, *emit, *resume_fn, *sync, *done;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!OOOO:Emitter", names, &bus, &PyDict_Type,
                                     &plans, &emit, &resume_fn, &sync, &done)) {
        return NULL;
    }
    if (!PyCallable_Check(emit) || !PyCallable_Check(resume_fn)) {
        PyErr_SetString(PyExc_TypeError, "emit and resume must be callable");
        return NULL;
    }
    PyTypeObject *plan_type = NULL;
    Py_ssize_t sync_offset = slot_offset(sync, &plan_type);
    if (sync_offset < 0) {
        return NULL;
    }
    Py_ssize_t done_offset = slot_offset(done, &plan_type);
    if (done_offset < 0) {
        return NULL;
    }
    Emitter *self = (Emitter *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->bus = Py_NewRef(bus);
    self->plans = Py_NewRef(plans);
    self->emit = Py_NewRef(emit);
    self->resume = Py_NewRef(resume_fn);
    self->plan_type = (PyTypeObject *)Py_NewRef((PyObject *)plan_type);
    self->sync_offset = sync_offset;
    self->done_offset = done_offset;
    self->vectorcall = emitter_vectorcall;
    return (PyObject *)self;
}

static int
emitter_traverse(Emitter *self, visitproc visit, void *arg)
{
    Py_VISIT(self->bus);
    Py_VISIT(self->plans);
    Py_VISIT(self->emit);
    Py_VISIT(self->resume);
    Py_VISIT(self->plan_type);
    return 0;
}

static int
emitter_clear(Emitter *self)
{
    Py_CLEAR(self->bus);
    Py_CLEAR(self->plans);
    Py_CLEAR(self->emit);
    Py_CLEAR(self->resume);
    Py_CLEAR(self->plan_type);
    return 0;
}

static void
emitter_dealloc(Emitter *self)
{
    PyObject_GC_UnTrack(self);
    emitter_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The emitter behaves like the bound method it replaces: bus.emit.__self__,
 * __func__, __name__, __wrapped__ (so inspect.signature works) come from it. */
static PyObject *
emitter_getattro(PyObject *self, PyObject *name)
{
    PyObject *found = PyObject_GenericGetAttr(self, name);
    if (found != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return found;
    }
    Emitter *e = (Emitter *)self;
    if (e->emit == NULL || e->bus == NULL) {
        return NULL;
    }
    PyErr_Clear();
    PyObject *method = PyMethod_New(e->emit, e->bus);
    if (method == NULL) {
        return NULL;
    }
    if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "__wrapped__") == 0) {
        return method;
    }
    found = PyObject_GetAttr(method, name);
    Py_DECREF(method);
    return found;
}

static PyObject *
emitter_repr(Emitter *self)
{
    return PyUnicode_FromFormat("<C-accelerated emit of %R>", self->bus);
}

static PyTypeObject EmitterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "day25._speedups.Emitter",
    .tp_doc = PyDoc_STR("EventBus.emit with its sync hot path in C (see day25.accelerator)."),
    .tp_basicsize = sizeof(Emitter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_new = emitter_new,
    .tp_dealloc = (destructor)emitter_dealloc,
    .tp_traverse = (traverseproc)emitter_traverse,
    .tp_clear = (inquiry)emitter_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Emitter, vectorcall),
    .tp_getattro = emitter_getattro,
    .tp_repr = (reprfunc)emitter_repr,
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "day25._speedups",
    .m_doc = PyDoc_STR("The C hot path of day25.EventBus.emit; pure Python is the fallback."),
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&EmitterType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "Emitter", (PyObject *)&EmitterType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
