; io.s - an IO loop: a thread writes 1000 bytes into a pipe one at a time while the main thread
; reads them back, each read and write releasing the GIL while it blocks, as Python's os.read and
; os.write do. Prints how many bytes arrived and their sum.
func main 0 5               ; 0: read end, 1: write end, 2: count, 3: sum, 4: writer's handle
    native pipe
    store 1
    store 0
    load 1
    push 1000
    spawn writer
    store 4
again:
    load 0
    native read
    dup
    push 0
    lt
    jnz eof                 ; -1: the writer closed its end
    load 3
    add
    store 3
    load 2
    push 1
    add
    store 2
    jmp again
eof:
    pop
    load 4
    join
    pop
    load 0
    native close
    pop
    load 2
    native print            ; 1000
    load 3
    native print            ; 1000 * 7 = 7000
    push 0
    ret
end

; writer fd n: write n bytes of 7, then close fd
func writer 2
loop:
    load 1
    jz done
    load 0
    push 7
    native write
    pop
    load 1
    push 1
    sub
    store 1
    jmp loop
done:
    load 0
    native close
    ret
end
